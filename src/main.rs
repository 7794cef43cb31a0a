//! The `ocpp-inspector` binary: all behaviour lives in the library; see `cli`.

fn main() -> std::process::ExitCode {
    ocpp_inspector::cli::main()
}
