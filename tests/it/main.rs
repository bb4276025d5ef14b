//! The one integration-test binary: every test drives the built `crm` binary in a hermetic
//! temp environment (see `harness`).

mod harness;

mod core;
mod import;
mod import_faults;
mod import_roundtrip;
