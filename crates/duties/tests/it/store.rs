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
