//! Compiles proto/ with protox (pure Rust, no protoc) and generates tonic code from the result.

use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        "restaked/v1/node.proto",
        "restaked/v1/keys.proto",
        "restaked/v1/protection.proto",
        "restaked/v1/validators.proto",
        "restaked/v1/pods.proto",
        "restaked/v1/proofs.proto",
        "restaked/v1/modules.proto",
        "restaked/v1/oracle.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={}", proto_root.join(file).display());
    }
    let descriptors = protox::compile(files, [&proto_root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("restaked_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
