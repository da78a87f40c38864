//! `restakectl keys generate`: new validator keys, offline.
//!
//! A mnemonic (new, or read from a file to recover keys) gives a seed; EIP-2333/2334 derive the
//! signing key `m/12381/3600/<i>/0/0` of each account; each is written as an EIP-2335 keystore
//! (scrypt) with one random password in `password.txt`, the layout `signer.keystores_dir` +
//! `signer.password_file` reads. Nothing here can sign: the signer crate keeps that to itself.

use std::{
    fs,
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
};

use clap::Args;
use restake_signer::{
    bls::PublicKey,
    derive::{self, KeyPath},
    keystore::{Kdf, Keystore},
};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::{CliError, json_line, read_file, table};

/// Most keys one run may generate.
const MAX_COUNT: u32 = 10_000;

/// Arguments of `keys generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// Directory to write the keystores and `password.txt` into (created; must not hold keystores yet).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// How many keys.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// EIP-2334 account index of the first key.
    #[arg(long, default_value_t = 0)]
    first_index: u32,
    /// Recover from this mnemonic (a file holding the words) instead of making a new one.
    #[arg(long, value_name = "FILE")]
    mnemonic_file: Option<PathBuf>,
    /// Use this password (a file) instead of a random one.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// Key derivation of the keystores: scrypt (EIP-2335's default) or pbkdf2.
    #[arg(long, default_value = "scrypt", value_parser = ["scrypt", "pbkdf2"])]
    kdf: String,
}

#[derive(Debug, Serialize)]
struct GeneratedKey {
    path: String,
    public_key: String,
    keystore: String,
}

#[derive(Debug, Serialize)]
struct Generated {
    keys: Vec<GeneratedKey>,
    password_file: String,
    new_mnemonic: bool,
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let file_error = |source| CliError::File {
        path: path.to_owned(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(file_error)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(file_error)
}

fn trim_newline(mut text: Zeroizing<String>) -> Zeroizing<String> {
    while text.ends_with('\n') || text.ends_with('\r') {
        text.pop();
    }
    text
}

/// Runs `keys generate`.
pub(crate) fn run(args: &GenerateArgs, json: bool) -> Result<String, CliError> {
    if args.count == 0 || args.count > MAX_COUNT {
        return Err(CliError::Usage(format!(
            "--count must be 1 to {MAX_COUNT}, got {}",
            args.count
        )));
    }
    args.first_index
        .checked_add(args.count - 1)
        .ok_or_else(|| {
            CliError::Usage("--first-index + --count overflows the account index".to_owned())
        })?;
    let (phrase, new_mnemonic) = match &args.mnemonic_file {
        Some(file) => (trim_newline(Zeroizing::new(read_file(file)?)), false),
        None => (
            derive::generate_mnemonic().map_err(|e| CliError::Keys(e.to_string()))?,
            true,
        ),
    };
    let seed =
        derive::mnemonic_to_seed(phrase.trim(), "").map_err(|e| CliError::Keys(e.to_string()))?;
    let password = match &args.password_file {
        Some(file) => trim_newline(Zeroizing::new(read_file(file)?)),
        None => {
            let mut bytes = Zeroizing::new([0u8; 24]);
            getrandom::fill(bytes.as_mut())
                .map_err(|e| CliError::Keys(format!("no OS randomness: {e}")))?;
            Zeroizing::new(hex::encode(bytes.as_ref()))
        }
    };
    let kdf = if args.kdf == "pbkdf2" {
        Kdf::Pbkdf2
    } else {
        Kdf::Scrypt
    };

    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&args.out)
        .map_err(|source| CliError::File {
            path: args.out.clone(),
            source,
        })?;
    let password_path = args.out.join("password.txt");
    let mut keys = Vec::new();
    for index in args.first_index..=args.first_index + (args.count - 1) {
        let path = KeyPath::validator_signing(index);
        let secret =
            derive::derive_path(seed.as_ref(), &path).map_err(|e| CliError::Keys(e.to_string()))?;
        let public_key = PublicKey::from_secret(&secret)
            .map_err(|e| CliError::Keys(e.to_string()))?
            .to_bytes();
        let keystore = Keystore::encrypt(&secret, &password, &public_key, &path.to_string(), kdf)
            .map_err(|e| CliError::Keys(e.to_string()))?;
        let file = args
            .out
            .join(format!("keystore-m_12381_3600_{index}_0_0.json"));
        write_private(&file, keystore.to_json_pretty().as_bytes())?;
        keys.push(GeneratedKey {
            path: path.to_string(),
            public_key: format!("0x{}", hex::encode(public_key)),
            keystore: file.display().to_string(),
        });
    }
    if args.password_file.is_none() {
        write_private(&password_path, password.as_bytes())?;
    }
    if new_mnemonic {
        // The only copy: shown once on stderr (never stdout, which scripts capture), never stored.
        eprintln!(
            "\nNEW MNEMONIC: write these 24 words down and keep them offline. They are the only way to\n\
             recover these keys, and anyone who has them controls the keys. They are not stored anywhere.\n\n{}\n",
            phrase.as_str()
        );
    }
    let password_file = args
        .password_file
        .as_ref()
        .unwrap_or(&password_path)
        .display()
        .to_string();
    let generated = Generated {
        keys,
        password_file,
        new_mnemonic,
    };
    if json {
        return Ok(json_line(&generated));
    }
    let rows: Vec<Vec<String>> = generated
        .keys
        .iter()
        .map(|k| vec![k.path.clone(), k.public_key.clone(), k.keystore.clone()])
        .collect();
    let mut out = table::render(&["PATH", "PUBLIC KEY", "KEYSTORE"], &rows);
    out.push_str(&format!(
        "\nLoad them with signer.keystores_dir = {:?} and signer.password_file = {:?},\nor import each with `restakectl keys import KEYSTORE --password-file {}`.\n",
        args.out.display().to_string(),
        generated.password_file,
        generated.password_file
    ));
    Ok(out)
}
