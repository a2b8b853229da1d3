//! infrac: a compiler for `.inf`, a declarative infrastructure language in
//! which every port carries an exposure level and the checker proves that no
//! port is reachable from further away than its service's class allows.
//!
//! The pipeline runs one way:
//!
//! ```text
//! Sources ─ syntax::parse ─▶ ast::File ─ check ─▶ ir::Model ─ backend::emit(target) ─▶ files
//!                                          └─ graph (petgraph), exposure, rules
//! ```
//!
//! [`compile`] is the entry point every command, bench and test uses: it
//! reads through a [`loader::Loader`] (the file system for the CLI, memory
//! for tests and the editor server) and returns a [`Compiled`] whose model
//! exists only when the program is sound.
//!
//! This crate is a pure library: it reads only through the loader, and
//! only `cli` writes files or touches the terminal and the environment.

pub mod ast;
pub mod backend;
pub mod check;
pub mod cli;
pub mod comment;
pub mod compile;
pub mod diagnostics;
pub mod diagram;
mod escape;
pub mod graph;
pub mod import;
pub mod ir;
pub mod loader;
pub mod lsp;
pub mod schema;
pub mod source;
pub mod span;
pub mod stdlib;
pub mod syntax;
#[doc(hidden)]
pub mod workload;

pub use compile::{compile, Compiled};
