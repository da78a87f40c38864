//! Moving a node's protection history with `restakectl protection export|import`.

use std::fs;

use crate::process::{NodeDir, restakectl};

fn interchange_vector(name: &str) -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/slashing-protection-interchange/"
    );
    let test: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(format!("{path}{name}.json")).unwrap()).unwrap();
    test["steps"][0]["interchange"].clone()
}

fn history_with(message_hash: &str) -> String {
    serde_json::json!({
        "format": "restaked-protection-history",
        "version": 1,
        "messages": [{
            "scheme": "bls12-381",
            "public_key": format!("0x{}", "ab".repeat(48)),
            "domain": "bridge",
            "conflict_key": "0x07",
            "ordering": 7,
            "message_hash": message_hash,
            "signature": format!("0x{}", "cd".repeat(96)),
            "signed_at": 1_700_000_000,
        }],
    })
    .to_string()
}

#[test]
fn history_moves_between_nodes_and_contradictions_are_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let a = NodeDir::new("");
    let (_node_a, endpoints_a) = a.start();

    // Seed node A: an EIP-3076 interchange and one AVS-duty record.
    let interchange = interchange_vector("multiple_validators_multiple_blocks_and_attestations");
    fs::write(
        scratch.path().join("interchange.json"),
        interchange.to_string(),
    )
    .unwrap();
    let output = restakectl(
        endpoints_a.grpc,
        &[
            "protection",
            "import",
            &scratch
                .path()
                .join("interchange.json")
                .display()
                .to_string(),
            "--json",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let imported: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(imported["validators"], 3, "{imported}");
    let first_hash = format!("0x{}", "11".repeat(32));
    fs::write(
        scratch.path().join("history.json"),
        history_with(&first_hash),
    )
    .unwrap();
    let output = restakectl(
        endpoints_a.grpc,
        &[
            "protection",
            "import",
            &scratch.path().join("history.json").display().to_string(),
        ],
    );
    assert!(output.status.success(), "{output:?}");

    // Export A, import into a fresh node B, export B: the same history.
    let exported = scratch.path().join("a.json");
    let output = restakectl(
        endpoints_a.grpc,
        &[
            "protection",
            "export",
            "--out",
            &exported.display().to_string(),
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!(
            "exported 1 duty record(s) and 3 validator(s) to {}\n",
            exported.display()
        )
    );
    let b = NodeDir::new("");
    let (_node_b, endpoints_b) = b.start();
    let output = restakectl(
        endpoints_b.grpc,
        &["protection", "import", &exported.display().to_string()],
    );
    assert!(output.status.success(), "{output:?}");
    let from_b = restakectl(endpoints_b.grpc, &["protection", "export"]);
    let a_doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&exported).unwrap()).unwrap();
    let b_doc: serde_json::Value = serde_json::from_slice(&from_b.stdout).unwrap();
    assert_eq!(a_doc, b_doc);
    assert_eq!(b_doc["messages"][0]["message_hash"], first_hash.as_str());

    // A history that says another message was signed for the same conflict key is refused whole.
    fs::write(
        scratch.path().join("conflict.json"),
        history_with(&format!("0x{}", "22".repeat(32))),
    )
    .unwrap();
    let output = restakectl(
        endpoints_b.grpc,
        &[
            "protection",
            "import",
            &scratch.path().join("conflict.json").display().to_string(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("conflicts with this store"),
        "{output:?}"
    );
    let after: serde_json::Value =
        serde_json::from_slice(&restakectl(endpoints_b.grpc, &["protection", "export"]).stdout)
            .unwrap();
    assert_eq!(after, b_doc, "nothing of the refused document was kept");
}

#[test]
fn an_interchange_for_another_chain_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = NodeDir::new("");
    let (_node, endpoints) = dir.start();
    let interchange = interchange_vector("single_validator_single_block");
    fs::write(scratch.path().join("i.json"), interchange.to_string()).unwrap();
    let other_chain = format!("0x{}", "99".repeat(32));
    let output = restakectl(
        endpoints.grpc,
        &[
            "protection",
            "import",
            &scratch.path().join("i.json").display().to_string(),
            "--genesis-validators-root",
            &other_chain,
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("genesis_validators_root mismatch"),
        "{output:?}"
    );
}
