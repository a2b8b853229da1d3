//! The program as a graph (petgraph): services, networks, nodes, volumes
//! and secrets, with edges for dependencies, routes, network membership,
//! placement, mounts and secret use. petgraph stays inside this module; the
//! rest of the compiler speaks in ids.
//!
//! Construction is deterministic: the model's lists are sorted by name and
//! the graph adds them in that order, so traversals, cycles and every
//! diagnostic built from them come out the same on every run.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::ir::{Model, MountSource, NetworkId, ServiceId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vertex {
    Service(ServiceId),
    Network(NetworkId),
    Node(u32),
    Volume(u32),
    Secret(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// `depends`: from the dependent to its dependency.
    Depends,
    /// A route: from the proxy to the target, with the route's index in
    /// the proxy's `routes`.
    Route(u32),
    /// Network membership: from the service to the network.
    Member,
    /// `on`: from the service to the node.
    Placed,
    /// From the service to the volume it mounts.
    Mounts,
    /// From the service to the secret it reads.
    Reads,
}

/// The whole program graph.
pub struct Graph {
    graph: DiGraph<Vertex, Edge>,
    services: Vec<NodeIndex>,
}

impl Graph {
    pub fn build(model: &Model) -> Graph {
        let mut graph = DiGraph::new();
        let services: Vec<NodeIndex> = (0..model.services.len())
            .map(|i| graph.add_node(Vertex::Service(ServiceId(i as u32))))
            .collect();
        let networks: Vec<NodeIndex> = (0..model.networks.len())
            .map(|i| graph.add_node(Vertex::Network(NetworkId(i as u32))))
            .collect();
        let nodes: Vec<NodeIndex> = (0..model.nodes.len())
            .map(|i| graph.add_node(Vertex::Node(i as u32)))
            .collect();
        let volumes: Vec<NodeIndex> = (0..model.volumes.len())
            .map(|i| graph.add_node(Vertex::Volume(i as u32)))
            .collect();
        let secrets: Vec<NodeIndex> = (0..model.secrets.len())
            .map(|i| graph.add_node(Vertex::Secret(i as u32)))
            .collect();
        for (i, s) in model.services.iter().enumerate() {
            let from = services[i];
            for (dep, _) in &s.depends {
                graph.add_edge(from, services[dep.index()], Edge::Depends);
            }
            for (r, route) in s.routes.iter().enumerate() {
                graph.add_edge(from, services[route.target.index()], Edge::Route(r as u32));
            }
            for n in &s.networks {
                graph.add_edge(from, networks[n.index()], Edge::Member);
            }
            if let Some(node) = s.on {
                graph.add_edge(from, nodes[node.index()], Edge::Placed);
            }
            for m in &s.mounts {
                if let MountSource::Volume(v) = m.source {
                    graph.add_edge(from, volumes[v.index()], Edge::Mounts);
                }
            }
            for sec in &s.secrets {
                graph.add_edge(from, secrets[sec.index()], Edge::Reads);
            }
        }
        Graph { graph, services }
    }

    /// The routes that lead into a service: (proxy, index of the route in
    /// the proxy's `routes`), in a stable order.
    pub fn routes_into(&self, service: ServiceId) -> Vec<(ServiceId, usize)> {
        let mut routes: Vec<(ServiceId, usize)> = self
            .graph
            .edges_directed(self.services[service.index()], Direction::Incoming)
            .filter_map(|e| match (e.weight(), self.graph[e.source()]) {
                (Edge::Route(r), Vertex::Service(proxy)) => Some((proxy, *r as usize)),
                _ => None,
            })
            .collect();
        routes.sort_unstable();
        routes
    }

    /// The services a proxy routes to.
    pub fn route_targets(&self, proxy: ServiceId) -> Vec<ServiceId> {
        let mut targets: Vec<ServiceId> = self
            .graph
            .edges_directed(self.services[proxy.index()], Direction::Outgoing)
            .filter_map(|e| match (e.weight(), self.graph[e.target()]) {
                (Edge::Route(_), Vertex::Service(t)) => Some(t),
                _ => None,
            })
            .collect();
        targets.sort_unstable();
        targets.dedup();
        targets
    }

    /// Groups of services that depend on each other in a cycle (each group
    /// sorted, groups in order of their first member); a service that
    /// depends on itself is a group of one.
    pub fn dependency_cycles(&self) -> Vec<Vec<ServiceId>> {
        let deps = self.graph.filter_map(
            |_, v| match v {
                Vertex::Service(s) => Some(*s),
                _ => None,
            },
            |_, e| (*e == Edge::Depends).then_some(()),
        );
        let mut cycles: Vec<Vec<ServiceId>> = tarjan_scc(&deps)
            .into_iter()
            .filter(|scc| scc.len() > 1 || deps.contains_edge(scc[0], scc[0]))
            .map(|scc| {
                let mut ids: Vec<ServiceId> = scc.into_iter().map(|i| deps[i]).collect();
                ids.sort_unstable();
                ids
            })
            .collect();
        cycles.sort();
        cycles
    }
}
