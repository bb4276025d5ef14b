//! The one integration-test binary: every test drives the built `crm` binary in a hermetic
//! temp environment (see `harness`).

mod harness;

mod core;
mod report;
