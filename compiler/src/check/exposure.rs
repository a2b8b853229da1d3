//! Effective exposure: the widest reach of every port once routes are
//! followed. A proxy hands its own reach (the widest effective exposure of
//! its ports) to every port it routes to, narrowed by the route's own
//! `restricted(...)`:
//!
//! ```text
//! eff(S:p) = declared(S:p) ⊔ ⨆ { reach(P) ⊓ filter(r) | route r: P → S:p }
//! ```
//!
//! This is a monotone fixpoint over a finite lattice (levels, and unions of
//! the program's own address ranges), computed with a worklist: each
//! service is revisited only when a proxy in front of it widened, so proxy
//! chains of any length and route cycles terminate, in time linear in the
//! number of routes times the (small) height of the lattice.
//!
//! Alongside each widened port we keep the route that widened it last, so
//! a finding can show the whole path from the public edge to the port.

use std::collections::VecDeque;

use crate::ir::{Exposure, Model, ServiceId};

/// The route that last widened a port: (proxy, index in its `routes`).
pub(crate) type Witness = (ServiceId, usize);

/// Effective exposure of every port, `[service][port]`, and its witnesses.
pub(crate) struct Effective {
    pub(crate) exposure: Vec<Vec<Exposure>>,
    pub(crate) witness: Vec<Vec<Option<Witness>>>,
}

pub(crate) fn compute(model: &Model) -> Effective {
    // A service on the host's network listens on the host's interfaces:
    // whatever its ports declare, they are as open as the host (and a
    // proxy there hands that reach on through its routes).
    let mut exposure: Vec<Vec<Exposure>> = model
        .services
        .iter()
        .map(|s| {
            s.ports
                .iter()
                .map(|p| {
                    if s.host_network {
                        Exposure::Public
                    } else {
                        p.declared.clone()
                    }
                })
                .collect()
        })
        .collect();
    let mut witness: Vec<Vec<Option<Witness>>> = model
        .services
        .iter()
        .map(|s| vec![None; s.ports.len()])
        .collect();
    let mut queued = vec![false; model.services.len()];
    let mut work: VecDeque<ServiceId> = model
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.routes.is_empty())
        .map(|(i, _)| ServiceId(i as u32))
        .collect();
    for id in &work {
        queued[id.index()] = true;
    }
    while let Some(proxy) = work.pop_front() {
        queued[proxy.index()] = false;
        let Some(reach) = exposure[proxy.index()]
            .iter()
            .cloned()
            .reduce(|a, b| a.join(&b))
        else {
            continue; // a proxy with no port of its own hands nothing on
        };
        for (r, route) in model.service(proxy).routes.iter().enumerate() {
            let handed = match &route.restriction {
                Some(list) => reach.meet(&Exposure::Restricted(list.clone())),
                None => reach.clone(),
            };
            let target = model.service(route.target);
            let Some(p) = target.ports.iter().position(|p| p.container == route.port) else {
                continue;
            };
            let current = &exposure[route.target.index()][p];
            let widened = current.join(&handed);
            if &widened != current {
                exposure[route.target.index()][p] = widened;
                witness[route.target.index()][p] = Some((proxy, r));
                let t = route.target.index();
                if !queued[t] && !target.routes.is_empty() {
                    queued[t] = true;
                    work.push_back(route.target);
                }
            }
        }
    }
    Effective { exposure, witness }
}

/// Writes the effective exposures into the model's ports.
pub(crate) fn apply(mut model: Model, effective: &Effective) -> Model {
    for (s, service) in model.services.iter_mut().enumerate() {
        for (p, port) in service.ports.iter_mut().enumerate() {
            port.effective = effective.exposure[s][p].clone();
        }
    }
    model
}

/// One hop of the path that widened a port.
pub(crate) struct Hop {
    pub(crate) proxy: ServiceId,
    pub(crate) route: usize,
}

/// The routes that carried reach to `service`'s port `port`, nearest first:
/// the route into the port, then the route into the proxy's widest port,
/// and so on back to a port that declared its level itself.
pub(crate) fn path(
    model: &Model,
    effective: &Effective,
    service: ServiceId,
    port: usize,
) -> Vec<Hop> {
    let mut hops = Vec::new();
    let mut seen = vec![false; model.services.len()];
    let mut at = (service, port);
    while let Some((proxy, route)) = effective.witness[at.0.index()][at.1] {
        if seen[proxy.index()] {
            break;
        }
        seen[proxy.index()] = true;
        hops.push(Hop { proxy, route });
        let Some(widest) = widest_port(effective, proxy) else {
            break;
        };
        at = (proxy, widest);
    }
    hops
}

/// The index of a service's port with the widest effective exposure.
pub(crate) fn widest_port(effective: &Effective, service: ServiceId) -> Option<usize> {
    let ports = &effective.exposure[service.index()];
    (0..ports.len()).max_by(|a, b| ports[*a].rank().cmp(&ports[*b].rank()).then(b.cmp(a)))
}
