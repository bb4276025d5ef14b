//! The `crm` binary: parse, run, map the error kind to the exit status.

/// mimalloc: bulk import allocates cells on a reader thread and frees them on the writer
/// thread, a pattern where glibc malloc spent a fifth of the import's CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = crm::run(std::env::args_os().collect());
    std::process::exit(code);
}
