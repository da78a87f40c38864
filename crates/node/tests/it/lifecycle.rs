//! Start, stop, the data-dir lock and the store as the process sees them.

use std::{fs, time::Duration};

use nix::sys::signal::Signal;
use restaked::{node::ENDPOINTS_FILE, probe};

use crate::process::NodeDir;

#[test]
fn sigterm_drains_flushes_and_exits_zero_within_the_deadline() {
    let dir = NodeDir::new("");
    let (mut node, endpoints) = dir.start();
    node.signal(Signal::SIGTERM);
    // The configured drain deadline is 5s; an idle node must be well within it.
    let status = node.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "logs:\n{}", node.logs());
    let logs = node.logs();
    assert!(logs.contains("reason=\"SIGTERM\""), "{logs}");
    assert!(logs.contains("all tasks stopped"), "{logs}");
    assert!(
        !dir.data_dir().join(ENDPOINTS_FILE).exists(),
        "endpoints.json is removed on a clean stop"
    );
    assert!(
        probe::http_get(endpoints.http, "/livez", Duration::from_millis(500)).is_err(),
        "port closed"
    );
    // The WAL was checkpointed into the main file: nothing left to replay.
    let wal = dir.data_dir().join("restaked.db-wal");
    assert!(!wal.exists() || fs::metadata(&wal).unwrap().len() == 0);

    let (mut again, _) = dir.start();
    again.signal(Signal::SIGINT);
    assert_eq!(again.wait_exit(Duration::from_secs(5)).code(), Some(0));
    assert!(
        !again.logs().contains("did not shut down cleanly"),
        "{}",
        again.logs()
    );
}

#[test]
fn a_killed_node_is_reported_as_unclean_on_the_next_start() {
    let dir = NodeDir::new("");
    let (mut node, _) = dir.start();
    node.signal(Signal::SIGKILL);
    node.wait_exit(Duration::from_secs(5));
    let (mut next, _) = dir.start();
    assert!(
        next.logs().contains("did not shut down cleanly"),
        "{}",
        next.logs()
    );
    next.signal(Signal::SIGTERM);
    assert_eq!(next.wait_exit(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn a_second_node_on_the_same_data_dir_is_refused() {
    let dir = NodeDir::new("");
    let (first, endpoints) = dir.start();
    let mut second = dir.spawn("second.log");
    let status = second.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(75), "logs:\n{}", second.logs());
    let logs = second.logs();
    assert!(logs.contains("is in use by another restaked"), "{logs}");
    assert!(logs.contains(&format!("pid {}", first.pid())), "{logs}");
    let ready = probe::http_get(endpoints.http, "/readyz", Duration::from_secs(2)).unwrap();
    assert_eq!(ready.status, 200, "the first node keeps running");
}

#[test]
fn a_corrupt_store_is_a_clear_error_and_is_left_untouched() {
    let dir = NodeDir::new("");
    fs::create_dir_all(dir.data_dir()).unwrap();
    let store = dir.data_dir().join("restaked.db");
    let garbage: Vec<u8> = (0..64 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(&store, &garbage).unwrap();
    let mut node = dir.spawn("restaked.log");
    let status = node.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(65), "logs:\n{}", node.logs());
    let logs = node.logs();
    assert!(logs.contains("is not an SQLite database"), "{logs}");
    assert!(logs.contains(&store.display().to_string()), "{logs}");
    assert_eq!(
        fs::read(&store).unwrap(),
        garbage,
        "the file is byte-for-byte as it was"
    );
    assert!(!dir.data_dir().join("restaked.db-wal").exists());
}

#[test]
fn a_port_in_use_is_named_with_its_config_key() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = NodeDir::new("");
    let config = fs::read_to_string(dir.config_path()).unwrap();
    let port = taken.local_addr().unwrap().port();
    fs::write(
        dir.config_path(),
        config.replacen("127.0.0.1:0", &format!("127.0.0.1:{port}"), 1),
    )
    .unwrap();
    let mut node = dir.spawn("restaked.log");
    assert_eq!(node.wait_exit(Duration::from_secs(10)).code(), Some(1));
    assert!(
        node.logs()
            .contains(&format!("cannot listen on 127.0.0.1:{port} (http.listen)")),
        "{}",
        node.logs()
    );
}

/// Runs `restaked run --config FILE` with `dir` remounted read-only in a private mount namespace
/// (`unshare -m`, as root; `-r` adds a user namespace for non-root runs).
fn run_with_read_only(dir: &std::path::Path, config: &std::path::Path) -> std::process::Output {
    let script = "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && exec \"$2\" run --config \"$3\"";
    let mut command = std::process::Command::new("unshare");
    if !nix::unistd::Uid::effective().is_root() {
        command.arg("-r");
    }
    command
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(dir)
        .arg(crate::process::restaked_bin())
        .arg(config)
        .env_clear()
        .output()
        .unwrap()
}

#[test]
fn a_read_only_data_dir_is_a_clear_error_and_nothing_changes() {
    let dir = NodeDir::new("");
    let (mut node, _) = dir.start();
    node.signal(Signal::SIGTERM);
    assert_eq!(node.wait_exit(Duration::from_secs(5)).code(), Some(0));
    let store = dir.data_dir().join("restaked.db");
    let before = fs::read(&store).unwrap();

    let output = run_with_read_only(&dir.data_dir(), &dir.config_path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Read-only file system"), "{stderr}");
    assert!(
        stderr.contains(&dir.data_dir().display().to_string()),
        "the error names the data dir: {stderr}"
    );
    assert_eq!(fs::read(&store).unwrap(), before, "the store is untouched");
}
