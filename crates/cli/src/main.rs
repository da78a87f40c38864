//! The `restakectl` binary.

fn main() -> std::process::ExitCode {
    restakectl::main()
}
