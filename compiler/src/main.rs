//! The `infrac` binary: a thin shell around the library's CLI module.

fn main() -> std::process::ExitCode {
    infrac::cli::main()
}
