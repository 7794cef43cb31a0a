//! The `ocpp-inspector` binary: all behaviour lives in the library; see `cli`.

// The checker allocates a little per frame (parsed JSON values); mimalloc's thread-local
// free lists make that about a third cheaper than the system allocator, and keep freed
// memory from fragmenting across worker threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ocpp_inspector::cli::main()
}
