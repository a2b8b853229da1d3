//! The rules: each reads the checked model (with effective exposure) and
//! pushes findings. One file per family, mirroring the code numbering:
//! exposure (2xxx levels and ceilings), reach (2xxx networks, cycles,
//! conflicts), secrets (3xxx), host (4xxx).

mod coverage;
mod credentials;
mod exposure;
mod host;
mod host_ports;
mod paths;
mod provenance;
mod reach;
mod secrets;

// The importer turns literal credentials into secrets by the same rules.
pub use credentials::env_credential;

use super::exposure::Effective;
use super::Ctx;
use crate::graph::Graph;
use crate::ir::Model;

/// A rule, by what it reads besides the model.
enum Rule {
    Model(fn(&mut Ctx<'_>, &Model)),
    Effective(fn(&mut Ctx<'_>, &Model, &Effective)),
    Graph(fn(&mut Ctx<'_>, &Model, &Graph)),
}

/// Every rule, in the order they run.
const RULES: &[Rule] = &[
    Rule::Effective(exposure::ceilings),
    Rule::Model(provenance::class_lowered),
    Rule::Model(exposure::restrictions),
    Rule::Effective(exposure::sensitive_ports),
    Rule::Model(exposure::nodes),
    Rule::Model(host_ports::host_ports),
    Rule::Model(reach::dependencies),
    Rule::Model(reach::routes),
    Rule::Model(crate::check::services::route_matchers),
    Rule::Graph(reach::cycles),
    Rule::Model(reach::port_conflicts),
    Rule::Graph(reach::data_tiers),
    Rule::Model(secrets::literals),
    Rule::Model(secrets::unused),
    Rule::Model(host::access),
    Rule::Model(host::hygiene),
];

pub(super) fn run(ctx: &mut Ctx<'_>, model: &Model, graph: &Graph, effective: &Effective) {
    for rule in RULES {
        match rule {
            Rule::Model(f) => f(ctx, model),
            Rule::Effective(f) => f(ctx, model, effective),
            Rule::Graph(f) => f(ctx, model, graph),
        }
    }
}
