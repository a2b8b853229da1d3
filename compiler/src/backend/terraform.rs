//! The terraform backend (being written).

use super::{Artifact, Options};
use crate::diagnostics::Diagnostic;
use crate::ir::Model;

pub fn emit(_model: &Model, _options: &Options) -> (Vec<Artifact>, Vec<Diagnostic>) {
    (Vec::new(), Vec::new())
}
