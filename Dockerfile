# syntax=docker/dockerfile:1
#
# restaked container image: the node (`restaked`) and its admin client (`restakectl`).
#
#   docker build -t restaked .
#   docker run -d --name restaked --stop-timeout 45 -p 127.0.0.1:7600:7600 \
#     -v restaked-data:/var/lib/restaked restaked
#
# Needs BuildKit (the default builder since Docker 23) for the cache mounts below.
#
# Stopping: `docker stop` waits 10 s by default before SIGKILL, less than the node's 30 s
# shutdown.drain_timeout; give it more (`--stop-timeout 45`, or `stop_grace_period: 45s` in compose).
#
# Restarting: exit 64 (bad config), 65 (store needs an operator) and 78 (keys cannot be loaded)
# must not be restarted, and Docker's restart policies cannot exclude exit codes; prefer `--restart on-failure:5` over
# `always`/`unless-stopped` so a bad config or store does not loop forever.

ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------
# Builder: the official Rust image has cargo, gcc and libc6-dev (rusqlite compiles a bundled
# SQLite); protobuf is compiled with protox, so no protoc is needed.
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /src

# Only what the build reads: manifests, the lock file, proto/ (crates/api/build.rs) and the crates.
COPY Cargo.toml Cargo.lock ./
COPY proto ./proto
COPY crates ./crates

# The registry and target/ live in BuildKit cache mounts, so a source change recompiles only the
# workspace crates; the binaries are copied out of the mount in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p restaked -p restakectl \
    && mkdir -p /out \
    && cp target/release/restaked target/release/restakectl /out/

# ---------------------------------------------------------------------------------------------
# Runtime: the binaries need only glibc and libgcc_s, which debian-slim has.
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

LABEL org.opencontainers.image.title="restaked" \
      org.opencontainers.image.description="restaked, a native-restaking operator node" \
      org.opencontainers.image.source="https://github.com/restaked/restaked" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed uid/gid (10001), so files in the volume keep one owner across image rebuilds and a
# bind-mounted host directory can be prepared with `chown 10001:10001 DIR` (mode 0700).
# The data dir is created here with its owner and mode so a new named volume inherits them.
# (No --system: useradd would warn that 10001 is above SYS_UID_MAX; the account is locked anyway.)
RUN groupadd --gid 10001 restaked \
    && useradd --uid 10001 --gid restaked --no-create-home \
       --home-dir /var/lib/restaked --shell /usr/sbin/nologin restaked \
    && install -d -m 0700 -o restaked -g restaked /var/lib/restaked \
    && install -d -m 0750 -o root -g restaked /etc/restaked

COPY --from=builder /out/restaked /out/restakectl /usr/local/bin/
# Readable by the node, not writable: the config may hold grpc.auth_token. Mount your own file
# over it, or set keys with RESTAKED_<SECTION>__<KEY> environment variables.
COPY --chown=root:restaked --chmod=0640 deploy/restaked.toml /etc/restaked/restaked.toml

# HTTP (metrics, /livez, /readyz, /eigen/node/*) listens on all interfaces so it can be published
# and scraped; environment variables beat the config file, so change it here (`-e`), not in a
# mounted file. The gRPC admin API stays at the file's 127.0.0.1:7601: it can shut the node down,
# so it is reachable only from inside the container (`docker exec restaked restakectl status`)
# unless the operator sets RESTAKED_GRPC__LISTEN=0.0.0.0:7601 together with
# RESTAKED_GRPC__AUTH_TOKEN (and publishes 7601, ideally on 127.0.0.1 only).
ENV RESTAKED_HTTP__LISTEN=0.0.0.0:7600

VOLUME ["/var/lib/restaked"]
USER 10001:10001
WORKDIR /var/lib/restaked
EXPOSE 7600

# `restaked healthcheck` is a tiny HTTP client built into the binary (no curl in the image);
# it exits 0 when GET /readyz answers 200. The start period leaves time for the startup
# integrity check of a large store.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["restaked", "healthcheck", "--addr", "127.0.0.1:7600", "--timeout", "3s"]

# The node is PID 1: it handles SIGTERM/SIGINT itself (stop accepting, drain, exit 0) and spawns
# no children, so no init shim is needed.
STOPSIGNAL SIGTERM
ENTRYPOINT ["restaked"]
CMD ["run", "--config", "/etc/restaked/restaked.toml"]
