//! Every integration test in one binary: each `compiler/tests/NAME.rs` is a
//! module here, so `cargo test` compiles and links one test crate against
//! the library and its dependencies instead of one per file (33 of them
//! were 33 debug links of the whole crate: most of a cold `cargo test`;
//! see the book's performance page, "Build profiles").
//!
//! Run one file's tests with a filter on its module:
//! `cargo test --test all golden::`. The helpers the files share are
//! declared once, here. Two targets stay binaries of their own:
//! `adversarial` (`harness = false`, its own runner) and `big_inputs`
//! (built in release by `scripts/big-inputs.sh`, which should not have to
//! build every other test with optimisations).
//!
//! A test that needs a process of its own (environment variables, the
//! working directory, resource limits, signals) sets them on a child
//! `Command`, never on this process: every file here shares it.

mod common;
mod documents;
#[path = "exposure/k8s_reach.rs"]
mod k8s_reach;
mod proxies;
#[path = "exposure/terraform_rules.rs"]
mod terraform_rules;
mod unspanned;

mod adversarial_props;
mod adversarial_secrets;
mod atomic_write;
mod backends;
mod cli;
mod codes;
mod deploy_survival;
mod determinism;
mod diagnostics;
mod diagram;
mod editors;
mod exposure;
mod fmt;
mod golden;
mod hostile;
mod import;
mod import_cli;
mod import_input;
mod import_meaning;
mod import_roundtrip;
mod k8s;
mod leaks;
mod lsp;
mod names;
mod neovim;
mod paths;
mod reach_oracle;
mod reading;
mod robustness;
mod routes;
mod sarif;
mod spec;
mod stdlib;
