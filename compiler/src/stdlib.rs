//! The standard library: templates (`use std/postgres`) and the image →
//! class catalogue, embedded in the binary so an installed `infrac` needs no
//! files beside it.

/// Every stdlib module: its name (as in `use std/NAME`) and its source.
pub const MODULES: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/stdlib_modules.rs"));

/// The catalogue module, read by every compilation.
pub const CATALOGUE: &str = "catalogue";

/// The source of `std/NAME`, if it exists.
pub fn module(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The names of the template modules (every module but the catalogue).
pub fn template_names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _)| *n).filter(|n| *n != CATALOGUE)
}

/// How a stdlib module is named in diagnostics.
pub fn display_name(name: &str) -> String {
    format!("std/{name}.inf")
}
