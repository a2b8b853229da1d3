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
//! [`apply`] writes the outcome into the IR once: every port's effective
//! exposure and witness path, every route's reach handed on. Backends read
//! those and never follow routes themselves.

use std::collections::VecDeque;

pub(crate) use crate::ir::Hop;
use crate::ir::{Exposure, Model, Route, ServiceId};

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
            let handed = hands_on(&reach, route);
            let target = model.service(route.target);
            // A route names a port by number: every declared port with
            // that number (8080/tcp and 8080/udp) is reached through it, as
            // the targets let the proxy in on the number.
            for p in (0..target.ports.len()).filter(|p| target.ports[*p].container == route.port) {
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
    }
    Effective { exposure, witness }
}

/// What a route hands on from a proxy of reach `reach`: the reach,
/// narrowed by the route's own allowlist, and never less than `internal`:
/// the proxy itself connects to the target across their shared network,
/// so a `local` port behind a route is reached by a peer (a proxy that is
/// only `local` still forwards to it from its own container).
fn hands_on(reach: &Exposure, route: &Route) -> Exposure {
    let narrowed = match &route.restriction {
        Some(list) => reach.meet(&Exposure::Restricted(list.clone())),
        None => reach.clone(),
    };
    narrowed.join(&Exposure::Internal)
}

/// The widest effective exposure of a service's ports: the reach a proxy
/// hands on through its routes (`None` without a port of its own).
fn reach(effective: &Effective, service: ServiceId) -> Option<Exposure> {
    effective.exposure[service.index()]
        .iter()
        .cloned()
        .reduce(|a, b| a.join(&b))
}

/// Writes the outcome into the model: each port's effective exposure and
/// witness path, each route's reach handed on.
pub(crate) fn apply(mut model: Model, effective: &Effective) -> Model {
    let witnesses: Vec<Vec<Vec<Hop>>> = (0..model.services.len())
        .map(|s| {
            (0..model.services[s].ports.len())
                .map(|p| path(effective, ServiceId(s as u32), p))
                .collect()
        })
        .collect();
    for ((s, service), witnesses) in model.services.iter_mut().enumerate().zip(witnesses) {
        for ((p, port), witness) in service.ports.iter_mut().enumerate().zip(witnesses) {
            port.effective = effective.exposure[s][p].clone();
            port.witness = witness;
        }
        let reach = reach(effective, ServiceId(s as u32));
        for route in &mut service.routes {
            route.handed = reach.as_ref().map(|r| hands_on(r, route));
        }
    }
    model
}

/// The routes that carried reach to `service`'s port `port`, nearest first:
/// the route into the port, then the route into the proxy's widest port,
/// and so on back to a port that declared its level itself.
pub(crate) fn path(effective: &Effective, service: ServiceId, port: usize) -> Vec<Hop> {
    let mut hops: Vec<Hop> = Vec::new();
    let mut at = (service, port);
    while let Some((proxy, route)) = effective.witness[at.0.index()][at.1] {
        // A route cycle: each proxy once. Paths are a few hops long, so a
        // scan beats a set (and allocates nothing for the ports that have
        // no witness, nearly all of them).
        if hops.iter().any(|h| h.proxy == proxy) {
            break;
        }
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

#[cfg(test)]
mod tests {
    use crate::ir::{Exposure, Hop, Ranges, ServiceId};

    /// The model carries the fixpoint's outcome: what every route hands on,
    /// and each port's effective exposure with the path that explains it.
    #[test]
    fn routes_carry_their_reach_and_ports_their_witness() {
        let text = r#"
service edge {
  image = "nginx:1.27"
  port 443 public
  route "app.example.com" -> mid:8080
}
service mid {
  image = "nginx:1.27"
  port 8080 internal
  route "/api" -> api:9000 restricted(["10.1.0.0/16", "10.0.0.0/16"])
}
service api {
  image = "ghcr.io/acme/api:1.0"
  port 9000 local
}
service lonely {
  image = "nginx:1.27"
  route "/x" -> api:9000
}
"#;
        let checked = crate::compile::compile_text("chain.inf", text);
        let model = checked.drawable().expect("the program elaborates");
        let by_name =
            |n: &str| ServiceId(model.services.iter().position(|s| s.name == n).unwrap() as u32);
        let (edge, mid, api) = (by_name("edge"), by_name("mid"), by_name("api"));
        let narrowed = Exposure::Restricted(Ranges::new(["10.0.0.0/15".parse().unwrap()]));
        assert_eq!(model.service(edge).routes[0].handed, Some(Exposure::Public));
        assert_eq!(model.service(mid).routes[0].handed, Some(narrowed.clone()));
        assert_eq!(model.service(by_name("lonely")).routes[0].handed, None);
        let port = &model.service(api).ports[0];
        assert_eq!(port.effective, narrowed);
        assert_eq!(
            port.witness,
            vec![
                Hop {
                    proxy: mid,
                    route: 0
                },
                Hop {
                    proxy: edge,
                    route: 0
                }
            ]
        );
        assert!(model.service(edge).ports[0].witness.is_empty());
    }
}
