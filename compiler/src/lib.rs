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
//! This crate is a pure library; only `cli` touches files, the terminal and
//! the environment.

pub mod ast;
pub mod backend;
pub mod check;
pub mod cli;
pub mod comment;
pub mod diagnostics;
pub mod diagram;
pub mod graph;
pub mod import;
pub mod ir;
pub mod source;
pub mod span;
pub mod stdlib;
pub mod syntax;
#[doc(hidden)]
pub mod workload;
