//! Starting and stopping a real `restaked` process for a test.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

use nix::{sys::signal, unistd::Pid};
use restaked::{
    node::{Endpoints, read_endpoints},
    probe,
};
use tempfile::TempDir;

pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

pub fn restaked_bin() -> &'static str {
    env!("CARGO_BIN_EXE_restaked")
}

/// `restakectl`, built beside `restaked` by `cargo build --workspace` / `cargo nextest run --workspace`.
pub fn restakectl_bin() -> PathBuf {
    let path = Path::new(restaked_bin()).with_file_name("restakectl");
    assert!(
        path.exists(),
        "{} is missing: build the workspace (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Runs `restakectl --endpoint http://<grpc> ARGS` with a clean environment.
pub fn restakectl(grpc: std::net::SocketAddr, args: &[&str]) -> std::process::Output {
    Command::new(restakectl_bin())
        .arg("--endpoint")
        .arg(format!("http://{grpc}"))
        .args(args)
        .env_clear()
        .output()
        .unwrap()
}

/// A test's own directory with a config file for a node on ephemeral loopback ports.
pub struct NodeDir {
    pub dir: TempDir,
}

impl NodeDir {
    pub fn new(extra_config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        // Dotted keys at the root, so a test's extra lines can set any key without reopening a table.
        let config = format!(
            "data_dir = {data_dir:?}\nhttp.listen = \"127.0.0.1:0\"\ngrpc.listen = \"127.0.0.1:0\"\nshutdown.drain_timeout = \"5s\"\n{extra_config}\n"
        );
        fs::write(dir.path().join("restaked.toml"), config).unwrap();
        Self { dir }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("restaked.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts `restaked run --config <file>` with stderr captured to a file.
    pub fn spawn(&self, log_name: &str) -> NodeProcess {
        self.spawn_with(log_name, &[])
    }

    /// Starts `restaked run --config <file> <extra args>` with stderr captured to a file.
    pub fn spawn_with(&self, log_name: &str, extra: &[&str]) -> NodeProcess {
        let log = self.dir.path().join(log_name);
        let child = Command::new(restaked_bin())
            .args(["run", "--config"])
            .arg(self.config_path())
            .args(extra)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        NodeProcess {
            child: Some(child),
            log,
        }
    }

    /// Starts a node and waits until /readyz answers 200.
    pub fn start(&self) -> (NodeProcess, Endpoints) {
        let node = self.spawn("restaked.log");
        let endpoints = node.wait_ready(&self.data_dir());
        (node, endpoints)
    }
}

pub struct NodeProcess {
    child: Option<Child>,
    pub log: PathBuf,
}

impl NodeProcess {
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().unwrap().id() as i32)
    }

    pub fn logs(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the node to write its endpoints and answer /readyz with 200.
    pub fn wait_ready(&self, data_dir: &Path) -> Endpoints {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(endpoints) = read_endpoints(data_dir)
                && endpoints.pid == self.pid().as_raw() as u32
                && probe::http_get(endpoints.http, "/readyz", Duration::from_secs(2))
                    .is_ok_and(|r| r.status == 200)
            {
                return endpoints;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "node not ready within {STARTUP_TIMEOUT:?}; logs:\n{}",
            self.logs()
        );
    }

    pub fn signal(&self, sig: signal::Signal) {
        signal::kill(self.pid(), sig).unwrap();
    }

    /// Waits for the process to exit, failing the test after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                panic!(
                    "node did not exit within {timeout:?}; logs:\n{}",
                    self.logs()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
