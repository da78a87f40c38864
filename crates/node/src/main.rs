//! The `restaked` binary.

fn main() -> std::process::ExitCode {
    restaked::cli::main()
}
