//! The `crm` binary: parse, run, map the error kind to the exit status.

fn main() {
    let code = crm::run(std::env::args_os().collect());
    std::process::exit(code);
}
