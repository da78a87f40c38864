//! A local anvil execution chain: found on this machine, started on a free port, stopped on drop.
//!
//! The binary is looked up in order: the `RESTAKED_ANVIL` environment variable (which must then
//! name an existing file), `target/tools/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil`
//! under the workspace this crate was built in (where `scripts/test.sh` installs it from npm),
//! then `anvil` on `PATH`.

use std::{
    collections::VecDeque,
    io::Read,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_provider::{Provider, RootProvider};

use crate::{Error, Result};

/// The environment variable naming the anvil binary.
pub const ANVIL_ENV: &str = "RESTAKED_ANVIL";

/// Where `scripts/test.sh` installs anvil, relative to the workspace root.
pub const WORKSPACE_ANVIL: &str =
    "target/tools/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/// How long anvil gets to answer `eth_chainId` after starting.
const STARTUP_DEADLINE: Duration = Duration::from_secs(20);
/// How often a port is tried before giving up (another process may take it between the probe
/// and anvil's bind).
const PORT_ATTEMPTS: usize = 5;
/// How much of anvil's output is kept for error messages.
const OUTPUT_TAIL_BYTES: usize = 4096;

/// Finds the anvil binary (see the module documentation for the order).
pub fn find_anvil() -> Result<PathBuf> {
    let mut searched = Vec::new();
    if let Some(path) = std::env::var_os(ANVIL_ENV) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        return Err(Error::AnvilNotFound {
            searched: format!("{ANVIL_ENV}={} (no such file)", path.display()),
        });
    }
    searched.push(format!("{ANVIL_ENV} (unset)"));

    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(WORKSPACE_ANVIL);
    if workspace.is_file() {
        return Ok(workspace);
    }
    searched.push(workspace.display().to_string());

    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("anvil");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    searched.push("anvil on PATH".to_owned());
    Err(Error::AnvilNotFound {
        searched: searched.join(", "),
    })
}

/// A running anvil, killed when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    path: PathBuf,
    port: u16,
    chain_id: u64,
    endpoint: String,
}

impl Anvil {
    /// Finds anvil and starts it on a free loopback port with its default accounts and chain id.
    pub async fn spawn() -> Result<Self> {
        Self::spawn_binary(&find_anvil()?).await
    }

    /// Starts the anvil binary at `path` on a free loopback port.
    pub async fn spawn_binary(path: &Path) -> Result<Self> {
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            match Self::try_port(path, free_port(path)?).await {
                Ok(anvil) => return Ok(anvil),
                Err(Attempt::PortTaken(error)) => last_error = Some(error),
                Err(Attempt::Failed(error)) => return Err(error),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::Anvil {
            path: path.to_owned(),
            what: "no free port".to_owned(),
        }))
    }

    /// The JSON-RPC endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The port anvil listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The chain id anvil answered.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The binary that runs.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn try_port(path: &Path, port: u16) -> Result<Self, Attempt> {
        let failed = |what: String| {
            Attempt::Failed(Error::Anvil {
                path: path.to_owned(),
                what,
            })
        };
        let mut child = Command::new(path)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--quiet",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(format!("cannot start: {e}")))?;
        let output = drain(child.stderr.take());
        let endpoint = format!("http://127.0.0.1:{port}");
        let mut anvil = Self {
            child,
            path: path.to_owned(),
            port,
            chain_id: 0,
            endpoint,
        };
        let url = anvil
            .endpoint
            .parse()
            .map_err(|e| failed(format!("endpoint {}: {e}", anvil.endpoint)))?;
        let provider: RootProvider = RootProvider::new_http(url);
        let started = Instant::now();
        loop {
            if let Ok(Ok(chain_id)) =
                tokio::time::timeout(Duration::from_millis(500), provider.get_chain_id()).await
            {
                anvil.chain_id = chain_id;
                return Ok(anvil);
            }
            if let Ok(Some(status)) = anvil.child.try_wait() {
                // Give the drainer a moment to collect the last words.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let tail = tail_of(&output);
                let error = Error::Anvil {
                    path: path.to_owned(),
                    what: format!("exited with {status} before answering on port {port}: {tail}"),
                };
                let port_taken = tail.contains("in use") || tail.contains("AddrInUse");
                return Err(if port_taken {
                    Attempt::PortTaken(error)
                } else {
                    Attempt::Failed(error)
                });
            }
            if started.elapsed() > STARTUP_DEADLINE {
                return Err(failed(format!(
                    "no answer to eth_chainId on port {port} within {STARTUP_DEADLINE:?}: {}",
                    tail_of(&output)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        // Already exited is fine; there is nothing else to do about a failed kill in a drop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why one attempt to start anvil failed.
enum Attempt {
    /// The port was taken between the probe and anvil's bind: try another.
    PortTaken(Error),
    /// Anything else: give up.
    Failed(Error),
}

/// A port that was free a moment ago: bound on 127.0.0.1:0, then released.
fn free_port(path: &Path) -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| Error::Anvil {
            path: path.to_owned(),
            what: format!("cannot find a free port on 127.0.0.1: {e}"),
        })
}

type OutputTail = Arc<Mutex<VecDeque<u8>>>;

/// Keeps the last [`OUTPUT_TAIL_BYTES`] of `stream` from a thread, so anvil never blocks on a
/// full pipe; the thread ends when anvil closes the stream.
fn drain(stream: Option<impl Read + Send + 'static>) -> OutputTail {
    let tail: OutputTail = Arc::default();
    if let Some(mut stream) = stream {
        let sink = Arc::clone(&tail);
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = stream.read(&mut buf) {
                let Ok(mut tail) = sink.lock() else { return };
                tail.extend(&buf[..n]);
                let excess = tail.len().saturating_sub(OUTPUT_TAIL_BYTES);
                tail.drain(..excess);
            }
        });
    }
    tail
}

fn tail_of(output: &OutputTail) -> String {
    let bytes: Vec<u8> = match output.lock() {
        Ok(tail) => tail.iter().copied().collect(),
        Err(_) => return "(output unavailable)".to_owned(),
    };
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    if text.is_empty() {
        "(no output)".to_owned()
    } else {
        text
    }
}
