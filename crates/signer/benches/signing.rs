//! Signing throughput with and without protection, and how well loading scrypt keystores
//! scales over cores. Each figure is printed as a ratio to a limit measured in the same run,
//! so the result does not depend on how fast the machine is.
//!
//! - **Signing**: raw `blst` (min-pk, Ethereum's DST) signatures of distinct 32-byte messages
//!   on 2 threads for a fixed wall time, against `ProtectedSigner::sign` for the same time on a
//!   tokio runtime with 2 worker threads and 2 blocking threads (the signing threads), with
//!   [`IN_FLIGHT`] requests in flight as a node's duties would have: sign, check and record in
//!   a fresh SQLite protection store (`synchronous=FULL`, group commit), with a unique conflict
//!   key per request so every request is recorded and none is refused. Goal: protected/raw >=
//!   0.8. The mean commit batch size and commit time (from the signer's own metrics) explain
//!   the result: with requests in flight, one fsync covers a batch.
//! - **Keystores**: `discover` + `decrypt_all` of N standard scrypt keystores (n = 2^18) on
//!   every core, against the single-thread time of N decryptions (the mean of a few, times N)
//!   divided by the number of cores. Goal: parallel efficiency >= 0.9. The keystores are one
//!   real keystore written under N file names with one shared password file: the KDF work per
//!   file is identical, which is what is measured, and creating N distinct keystores would
//!   cost as much as loading them. Each decrypting thread needs 256 MiB. Both times are printed
//!   with the cores the process actually kept busy (Linux): scrypt is CPU-bound, so fewer
//!   means other work shared the machine, and a note says the efficiency is not meaningful.
//!
//! N is 1,000 unless the environment variable `RESTAKED_BENCH_KEYSTORES` says otherwise (the
//! full run takes many minutes). Files live under Cargo's target tmp dir, on the same disk as
//! the build, not on a tmpfs that would make `fsync` free.
//!
//! Run with `scripts/bench-signer.sh` or `cargo bench -p restake-signer --bench signing`;
//! for example `RESTAKED_BENCH_KEYSTORES=40 scripts/bench-signer.sh` for a quick run.
//! Not part of the test suite: timings belong in benchmarks, and nothing here asserts on them.

// A benchmark aborts on any setup failure, like a test.
#![allow(clippy::expect_used, missing_docs)]

use std::{
    cell::Cell,
    fs,
    hint::black_box,
    io::Write,
    os::unix::fs::OpenOptionsExt,
    path::Path,
    thread,
    time::{Duration, Instant},
};

use blst::min_pk;
use prometheus::Registry;
use restake_signer::{
    KeyId, Keyring, ProtectedSigner, SecretBytes, SigningRequest,
    bls::{DST, PublicKey},
    keystore::{Kdf, Keystore, PasswordSource, decrypt_all, discover},
    protection::ProtectionDb,
};

/// Threads signing at once, as the issue states the goal.
const SIGNING_THREADS: u8 = 2;
/// Concurrent requests in the protected phase; waiting for a commit holds no thread.
const IN_FLIGHT: u8 = 64;
const WARM_UP: Duration = Duration::from_millis(500);
const MEASURE: Duration = Duration::from_secs(3);
const SIGNING_GOAL: f64 = 0.8;

const KEYSTORES_ENV: &str = "RESTAKED_BENCH_KEYSTORES";
const DEFAULT_KEYSTORES: usize = 1_000;
/// Keystores decrypted one after another to estimate the single-thread time.
const SINGLE_THREAD_SAMPLE: usize = 6;
const EFFICIENCY_GOAL: f64 = 0.9;
const PASSWORD: &str = "bench keystore password";

/// The one key used throughout. Any 32 bytes below the group order r (first byte 0x73) do.
const SECRET: [u8; 32] = {
    let mut bytes = [0x5a; 32];
    bytes[0] = 0x01;
    bytes
};

/// A message no other call in this run signs: phase, thread and sequence number.
fn message(phase: u8, thread: u8, n: u64) -> [u8; 32] {
    let mut message = [0u8; 32];
    message[0] = phase;
    message[1] = thread;
    message[24..].copy_from_slice(&n.to_be_bytes());
    message
}

/// Runs `op(thread, n)` on `threads` threads until `duration` has passed; returns how many
/// calls completed and the wall time until the last one did.
fn run_for(threads: u8, duration: Duration, op: &(dyn Fn(u8, u64) + Sync)) -> (u64, Duration) {
    let start = Instant::now();
    let deadline = start + duration;
    let per_thread: Vec<(u64, Instant)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut n = 0;
                    while Instant::now() < deadline {
                        op(t, n);
                        n += 1;
                    }
                    (n, Instant::now())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("signing thread panicked"))
            .collect()
    });
    let count = per_thread.iter().map(|(n, _)| n).sum();
    let end = per_thread
        .iter()
        .map(|(_, end)| *end)
        .max()
        .unwrap_or(start);
    (count, end - start)
}

/// Signatures per second of `op` on [`SIGNING_THREADS`] threads, after a warm-up; `phase`
/// is passed to `op` (0 during the warm-up, 1 while measured) to keep messages distinct.
fn signatures_per_second(op: &(dyn Fn(u8, u8, u64) + Sync), before_measuring: &dyn Fn()) -> f64 {
    run_for(SIGNING_THREADS, WARM_UP, &|t, n| op(0, t, n));
    before_measuring();
    let (count, elapsed) = run_for(SIGNING_THREADS, MEASURE, &|t, n| op(1, t, n));
    count as f64 / elapsed.as_secs_f64()
}

/// Sum and count of the histogram `name` in `registry`.
fn histogram(registry: &Registry, name: &str) -> (f64, u64) {
    registry
        .gather()
        .iter()
        .filter(|family| family.name() == name)
        .flat_map(|family| family.get_metric())
        .map(|metric| {
            let h = metric.get_histogram();
            (h.get_sample_sum(), h.get_sample_count())
        })
        .fold((0.0, 0), |(sum, count), (s, c)| (sum + s, count + c))
}

fn bench_signing(tmp: &Path) {
    let secret = SecretBytes::new(SECRET);
    let raw_key = min_pk::SecretKey::from_bytes(&SECRET).expect("SECRET is below r");

    let raw = signatures_per_second(
        &|phase, t, n| {
            black_box(raw_key.sign(&message(phase, t, n), DST, &[]).compress());
        },
        &|| {},
    );
    println!("raw blst: {SIGNING_THREADS} threads, {raw:.0} sig/s");

    let dir = tempfile::tempdir_in(tmp).expect("temp dir");
    let db = ProtectionDb::open(&dir.path().join("restaked.db"), Duration::from_secs(5))
        .expect("open protection store");
    let mut keyring = Keyring::default();
    let key: KeyId = keyring
        .add_bls(&secret, None, "bench key")
        .expect("valid secret key");
    let registry = Registry::new();
    let signer = ProtectedSigner::start(db, keyring, &registry).expect("start signer");

    // The protected path must produce exactly the raw baseline's signature.
    let check = message(2, 0, 0);
    let signed = signer
        .sign_blocking(request(&key, &check))
        .expect("first request is recorded");
    assert_eq!(
        signed.signature,
        raw_key.sign(&check, DST, &[]).compress().to_vec(),
        "the protected signer signs what the raw baseline signs"
    );

    let batches_before = Cell::new((0.0, 0));
    let commits_before = Cell::new((0.0, 0));
    let protected = protected_per_second(&signer, &key, &|| {
        batches_before.set(histogram(&registry, "restaked_signer_commit_batch_size"));
        commits_before.set(histogram(
            &registry,
            "restaked_signer_commit_duration_seconds",
        ));
    });
    let mean = |name: &str, before: (f64, u64)| {
        let (sum, count) = histogram(&registry, name);
        (sum - before.0) / (count - before.1).max(1) as f64
    };
    let batch = mean("restaked_signer_commit_batch_size", batches_before.get());
    let commit = mean(
        "restaked_signer_commit_duration_seconds",
        commits_before.get(),
    );
    println!(
        "protected: {SIGNING_THREADS} threads, {IN_FLIGHT} requests in flight, {protected:.0} sig/s \
         (check + record + sign, synchronous=FULL), mean commit batch {batch:.1}, mean commit {:.2} ms",
        commit * 1e3
    );
    println!(
        "protected/raw = {:.3} (goal >= {SIGNING_GOAL:.2})",
        protected / raw
    );
}

/// Signatures per second through `ProtectedSigner::sign` on a runtime with [`SIGNING_THREADS`]
/// worker and blocking threads and [`IN_FLIGHT`] concurrent requests, after a warm-up.
fn protected_per_second(signer: &ProtectedSigner, key: &KeyId, before_measuring: &dyn Fn()) -> f64 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(SIGNING_THREADS))
        .max_blocking_threads(usize::from(SIGNING_THREADS))
        .enable_all()
        .build()
        .expect("tokio runtime");
    let run = |phase: u8, duration: Duration| -> (u64, Duration) {
        runtime.block_on(async {
            let started = Instant::now();
            let deadline = started + duration;
            let mut tasks = tokio::task::JoinSet::new();
            for t in 0..IN_FLIGHT {
                let signer = signer.clone();
                let key = key.clone();
                tasks.spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let signed = signer
                            .sign(request(&key, &message(phase, t, n)))
                            .await
                            .expect("a request with a fresh conflict key is recorded");
                        assert!(!signed.repeated, "every request is new");
                        n += 1;
                    }
                    n
                });
            }
            let mut total = 0;
            while let Some(count) = tasks.join_next().await {
                total += count.expect("signing task");
            }
            (total, started.elapsed())
        })
    };
    run(0, WARM_UP);
    before_measuring();
    let (count, elapsed) = run(1, MEASURE);
    count as f64 / elapsed.as_secs_f64()
}

fn request(key: &KeyId, message: &[u8; 32]) -> SigningRequest {
    SigningRequest {
        key: key.clone(),
        domain: "bench/signing".to_owned(),
        // One conflict key per message: phase, thread and sequence number.
        conflict_key: message.to_vec(),
        ordering: None,
        message: message.to_vec(),
    }
}

/// CPU time (user + system) this process has used so far, from `/proc/self/stat` (in Linux's
/// fixed 100 Hz `USER_HZ` ticks); `None` where there is no procfs. Compared with wall time it
/// shows whether other work on the machine took cores away during a measurement.
fn process_cpu_time() -> Option<Duration> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start with field 3, `state`;
    // `utime` and `stime` are fields 14 and 15.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Cores this process kept busy since `cpu_before`, over `wall`, when known.
fn cores_used(cpu_before: Option<Duration>, wall: Duration) -> Option<f64> {
    Some(process_cpu_time()?.checked_sub(cpu_before?)?.as_secs_f64() / wall.as_secs_f64())
}

/// ", on 1.93 cores", or nothing when unknown.
fn on_cores(cores: Option<f64>) -> String {
    cores.map_or_else(String::new, |c| format!(", on {c:.2} cores"))
}

/// Writes `contents` to a new file readable by its owner only, as an operator should.
fn write_private(path: &Path, contents: &[u8]) {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(contents))
        .expect("write bench file");
}

fn bench_keystores(tmp: &Path, count: usize) {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let dir = tempfile::tempdir_in(tmp).expect("temp dir");
    let keys_dir = dir.path().join("keystores");
    fs::create_dir(&keys_dir).expect("create keystore dir");
    let password_file = dir.path().join("password.txt");
    write_private(&password_file, format!("{PASSWORD}\n").as_bytes());

    let secret = SecretBytes::new(SECRET);
    let pubkey = PublicKey::from_secret(&secret)
        .expect("valid secret key")
        .to_bytes();
    eprintln!("keystores: creating one scrypt keystore, writing it as {count} files");
    let keystore = Keystore::encrypt(
        &secret,
        PASSWORD,
        &pubkey,
        "m/12381/3600/0/0/0",
        Kdf::Scrypt,
    )
    .expect("encrypt keystore");
    let json = keystore.to_json_pretty();
    for i in 0..count {
        write_private(
            &keys_dir.join(format!("keystore-{i:05}.json")),
            json.as_bytes(),
        );
    }

    let sample = SINGLE_THREAD_SAMPLE.min(count);
    eprintln!("keystores: decrypting {sample} on one thread");
    let mut single = Duration::ZERO;
    let sample_started = Instant::now();
    let cpu_before = process_cpu_time();
    for i in 0..sample {
        let keystore = Keystore::from_file(&keys_dir.join(format!("keystore-{i:05}.json")))
            .expect("read keystore");
        let started = Instant::now();
        let decrypted = keystore.decrypt(PASSWORD).expect("decrypt keystore");
        single += started.elapsed();
        assert!(decrypted == secret, "keystore holds the secret");
    }
    let single_cores = cores_used(cpu_before, sample_started.elapsed());
    let single_thread = single.as_secs_f64() / sample as f64 * count as f64;

    eprintln!("keystores: loading {count} on {cores} threads");
    let started = Instant::now();
    let cpu_before = process_cpu_time();
    let entries =
        discover(&keys_dir, PasswordSource::SharedFile(password_file)).expect("discover keystores");
    let discovered = started.elapsed();
    let loaded = decrypt_all(&entries, cores, &|_, _| {});
    let parallel_wall = started.elapsed();
    let parallel_cores = cores_used(cpu_before, parallel_wall);
    let parallel = parallel_wall.as_secs_f64();
    assert_eq!(loaded.len(), count, "one result per keystore");
    for keystore in &loaded {
        let decrypted = keystore.result.as_ref().expect("every keystore decrypts");
        assert!(decrypted.secret == secret, "keystore holds the secret");
    }

    println!(
        "keystores: {count} scrypt (n=2^18), {cores} threads: {parallel:.1} s \
         (discover {:.2} s{}); single-thread estimate {single_thread:.1} s \
         ({:.3} s each, mean of {sample}{})",
        discovered.as_secs_f64(),
        on_cores(parallel_cores),
        single.as_secs_f64() / sample as f64,
        on_cores(single_cores),
    );
    println!(
        "parallel efficiency = {single_thread:.1} / ({cores} x {parallel:.1}) = {:.3} \
         (goal >= {EFFICIENCY_GOAL:.2})",
        single_thread / (cores as f64 * parallel)
    );
    // Scrypt is CPU-bound: a phase that got markedly less CPU than it had threads shared the
    // machine with other work, and the ratio then measures that work, not the loader.
    let busy = |used: Option<f64>, threads: usize| used.is_some_and(|u| u < 0.9 * threads as f64);
    if busy(single_cores, 1) || busy(parallel_cores, cores) {
        println!(
            "note: other processes took CPU from this run (see \"on N cores\" above); \
             rerun on an idle machine for a meaningful efficiency"
        );
    }
}

fn main() {
    // Cargo passes `--bench`, and `--list` when listing; other arguments are ignored.
    if std::env::args().any(|a| a == "--list") {
        println!("signing: benchmark");
        return;
    }
    let count = match std::env::var(KEYSTORES_ENV) {
        Ok(value) => value
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("{KEYSTORES_ENV} must be a positive number, got {value:?}")),
        Err(_) => DEFAULT_KEYSTORES,
    };
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    bench_signing(tmp);
    bench_keystores(tmp, count);
}
