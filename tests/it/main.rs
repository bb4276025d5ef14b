//! The one integration-test binary: every test drives the built `crm` binary in a hermetic
//! temp environment (see `harness`).

// Tests that cannot run here (no mount) print a `SKIPPED:` line on purpose.
#![allow(clippy::print_stdout)]

mod harness;
mod pg_harness;

mod bulk_edit;
mod core_auth;
mod core_docs;
mod core_find;
mod core_maint;
mod core_prompts;
mod core_records;
mod core_reliability;
mod core_roles;
mod crm_agenda;
mod crm_flows;
mod crm_roles;
mod crm_rules;
mod crm_service;
mod crm_support;
mod custom_fields;
mod help_examples;
mod history_import;
mod import;
mod import_faults;
mod import_roundtrip;
mod integ;
mod module_graph;
mod parity;
mod pg_audit;
mod pg_cli;
mod pg_concurrency;
mod pg_copy;
mod pg_import;
mod pg_import_load;
mod pg_logins;
mod pg_records;
mod pg_reports;
mod pg_schema;
mod pg_search;
mod pg_security;
mod pg_store_audit;
mod pg_store_query;
mod pg_tls;
mod pg_upgrade;
mod phones;
mod polish_cli;
mod polish_prompts;
mod polish_show;
mod pool;
mod rel_backup;
mod rel_cli;
mod rel_fsize;
mod rel_hostile;
mod rel_init;
mod rel_limits;
mod rel_mixed;
mod rel_wal;
mod report;
mod schema_drift;
mod search;
mod search_bulk;
mod settings;
mod trust_audit;
mod trust_files;
mod trust_formats;
mod trust_money;
mod trust_perf;
mod trust_polish;
mod trust_review_a;
mod trust_review_b;
mod trust_roles;
mod trust_store;
mod trust_values;
