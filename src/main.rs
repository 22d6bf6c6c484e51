//! The `ficx` command-line tool: a thin layer over the `ficx` library (see `src/cli/`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
