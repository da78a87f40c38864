//! The namespaced module key-value store.

use restake_duties::ModuleKv;

use crate::support::id;

#[test]
fn store_isolates_modules_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("modules.db");
    {
        let kv = ModuleKv::open(&path).unwrap();
        let oracle = kv.scoped(id("oracle"));
        let proofs = kv.scoped(id("proofs"));
        oracle.put("cursor", b"slot-7").unwrap();
        proofs.put("cursor", b"slot-9").unwrap();
        oracle.put("cursor", b"slot-8").unwrap();
        assert_eq!(
            oracle.get("cursor").unwrap().as_deref(),
            Some(&b"slot-8"[..])
        );
        assert_eq!(
            proofs.get("cursor").unwrap().as_deref(),
            Some(&b"slot-9"[..])
        );
        assert_eq!(kv.scoped(id("other")).get("cursor").unwrap(), None);
    }
    let kv = ModuleKv::open(&path).unwrap();
    let oracle = kv.scoped(id("oracle"));
    assert_eq!(
        oracle.get("cursor").unwrap().as_deref(),
        Some(&b"slot-8"[..])
    );
    assert!(oracle.delete("cursor").unwrap());
    assert!(!oracle.delete("cursor").unwrap());
    assert_eq!(oracle.get("cursor").unwrap(), None);
    assert_eq!(
        kv.scoped(id("proofs")).get("cursor").unwrap().as_deref(),
        Some(&b"slot-9"[..])
    );
}

#[test]
fn scan_reads_a_prefix_in_key_order_either_way() {
    let dir = tempfile::tempdir().unwrap();
    let kv = ModuleKv::open(&dir.path().join("modules.db")).unwrap();
    let oracle = kv.scoped(id("oracle"));
    for round in [3u64, 1, 12, 2] {
        oracle
            .put(&format!("report/eth-usd/{round:020}"), &round.to_be_bytes())
            .unwrap();
    }
    oracle
        .put("report/eth-usdc/00000000000000000001", b"x")
        .unwrap();
    oracle.put("report/eth_usd/1", b"x").unwrap();
    kv.scoped(id("other"))
        .put("report/eth-usd/00000000000000000099", b"x")
        .unwrap();
    let rounds = |rows: Vec<(String, Vec<u8>)>| -> Vec<u64> {
        rows.into_iter()
            .map(|(_, v)| u64::from_be_bytes(v.try_into().unwrap()))
            .collect()
    };
    assert_eq!(
        rounds(oracle.scan("report/eth-usd/", 10, false).unwrap()),
        [1, 2, 3, 12]
    );
    assert_eq!(
        rounds(oracle.scan("report/eth-usd/", 2, true).unwrap()),
        [12, 3]
    );
    assert!(oracle.scan("report/none/", 10, true).unwrap().is_empty());
}
