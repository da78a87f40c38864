//! Start-to-ready time and idle memory of a non-dev node: the real binary, a fresh data dir
//! each run, readiness measured the way a supervisor sees it (GET /readyz answers 200).
//!
//! Goals (issue 3): ready in at most 0.5 s, idle RSS at most 40 MB. Run with
//! `scripts/bench-node.sh` or `cargo bench -p restaked --bench node_startup`.

// A benchmark aborts on any setup failure, like a test.
#![allow(clippy::expect_used, missing_docs)]

use std::{
    fs,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use restaked::{node::read_endpoints, probe};

const RUNS: usize = 15;
const READY_GOAL: Duration = Duration::from_millis(500);
const RSS_GOAL_BYTES: u64 = 40 * 1024 * 1024;
const IDLE_BEFORE_RSS: Duration = Duration::from_secs(5);

fn start(dir: &std::path::Path) -> (Child, Instant) {
    let data_dir = dir.join("data");
    let config = dir.join("restaked.toml");
    fs::write(
        &config,
        format!("data_dir = {data_dir:?}\nhttp.listen = \"127.0.0.1:0\"\ngrpc.listen = \"127.0.0.1:0\"\nlog.level = \"warn\"\n"),
    )
    .expect("write bench config");
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_restaked"))
        .args(["run", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn restaked");
    (child, started)
}

fn wait_ready(
    child: &Child,
    dir: &std::path::Path,
    started: Instant,
) -> (Duration, std::net::SocketAddr) {
    let deadline = started + Duration::from_secs(30);
    loop {
        if let Some(endpoints) = read_endpoints(&dir.join("data"))
            && endpoints.pid == child.id()
            && probe::http_get(endpoints.http, "/readyz", Duration::from_secs(1))
                .is_ok_and(|r| r.status == 200)
        {
            return (started.elapsed(), endpoints.http);
        }
        assert!(Instant::now() < deadline, "node not ready within 30 s");
        thread::sleep(Duration::from_millis(1));
    }
}

fn rss_bytes(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc status");
    kb * 1024
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("node_startup: benchmark");
        return;
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let dir = tempfile::tempdir().expect("temp dir");
        let (child, started) = start(dir.path());
        let (elapsed, _) = wait_ready(&child, dir.path(), started);
        times.push(elapsed);
        stop(child);
    }
    times.sort();
    let median = times[RUNS / 2];
    let worst = times[RUNS - 1];

    let dir = tempfile::tempdir().expect("temp dir");
    let (child, started) = start(dir.path());
    let (_, http) = wait_ready(&child, dir.path(), started);
    // Scrape once, as Prometheus would, so the figure includes a served request.
    probe::http_get(http, "/metrics", Duration::from_secs(2)).expect("scrape /metrics");
    thread::sleep(IDLE_BEFORE_RSS);
    let rss = rss_bytes(child.id());
    stop(child);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "start-to-ready (median of {RUNS}): {:.1} ms = {:.3} x the {:.0} ms goal (worst {:.1} ms = {:.3} x)",
        ms(median),
        median.as_secs_f64() / READY_GOAL.as_secs_f64(),
        ms(READY_GOAL),
        ms(worst),
        worst.as_secs_f64() / READY_GOAL.as_secs_f64()
    );
    println!(
        "idle RSS after {}s: {:.1} MB = {:.3} x the {} MB goal",
        IDLE_BEFORE_RSS.as_secs(),
        rss as f64 / 1024.0 / 1024.0,
        rss as f64 / RSS_GOAL_BYTES as f64,
        RSS_GOAL_BYTES / 1024 / 1024
    );
}
