//! Generated code of the restaked admin API (`proto/restaked/v1`), shared by the node (server)
//! and `restakectl` (client).

/// Messages and services of package `restaked.v1`.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod v1 {
    tonic::include_proto!("restaked.v1");
}

/// The encoded `FileDescriptorSet` of every restaked proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/restaked_descriptor.bin"));
