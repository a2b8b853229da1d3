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

pub(super) fn run(ctx: &mut Ctx<'_>, model: &Model, graph: &Graph, effective: &Effective) {
    exposure::ceilings(ctx, model, effective);
    provenance::class_lowered(ctx, model);
    exposure::restrictions(ctx, model);
    exposure::sensitive_ports(ctx, model, effective);
    exposure::nodes(ctx, model);
    host_ports::host_ports(ctx, model);
    reach::dependencies(ctx, model);
    reach::routes(ctx, model);
    crate::check::services::route_matchers(ctx, model);
    reach::cycles(ctx, model, graph);
    reach::port_conflicts(ctx, model);
    reach::data_tiers(ctx, model, graph);
    secrets::literals(ctx, model);
    secrets::unused(ctx, model);
    host::access(ctx, model);
    host::hygiene(ctx, model);
}
