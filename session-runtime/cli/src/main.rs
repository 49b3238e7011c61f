//! `sessions`: see `sessions --help`.

fn main() -> std::process::ExitCode {
    session_cli::cli::main()
}
