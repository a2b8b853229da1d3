//! The graph algorithms the checker needs over the program's services:
//! cycles of `depends` (Tarjan's strongly connected components, from
//! petgraph) and the services each proxy routes to. petgraph stays inside
//! this module; the rest of the compiler speaks in ids.
//!
//! Why this is small: the IR already holds the program's adjacency, as id
//! lists (`Service::depends`, `Service::routes`, `Service::networks`), and
//! every stage reads those — the exposure fixpoint, the rules, the
//! backends (which may read the IR only) and the diagram. A second copy of
//! all of it as a petgraph graph (it had five vertex kinds and six edge
//! kinds) was built on every check and read for two questions; it now
//! holds only what answers them.
//!
//! Construction is deterministic: services are added in id (name) order,
//! so cycles and every diagnostic built from them come out the same on
//! every run.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::ir::{Model, ServiceId};

/// What the checker asks about the program as a graph.
pub struct Graph {
    /// `depends` edges, from the dependent to its dependency; vertex `i`
    /// is service `i`.
    depends: DiGraph<ServiceId, ()>,
    /// The services each proxy routes to, by [`ServiceId`], sorted and
    /// without repeats.
    route_targets: Vec<Vec<ServiceId>>,
}

impl Graph {
    pub fn build(model: &Model) -> Graph {
        let mut depends = DiGraph::with_capacity(model.services.len(), 0);
        let vertices: Vec<NodeIndex> = (0..model.services.len())
            .map(|i| depends.add_node(ServiceId(i as u32)))
            .collect();
        let mut route_targets = Vec::with_capacity(model.services.len());
        for (i, s) in model.services.iter().enumerate() {
            for (dep, _) in &s.depends {
                depends.add_edge(vertices[i], vertices[dep.index()], ());
            }
            let mut targets: Vec<ServiceId> = s.routes.iter().map(|r| r.target).collect();
            targets.sort_unstable();
            targets.dedup();
            route_targets.push(targets);
        }
        Graph {
            depends,
            route_targets,
        }
    }

    /// The services a proxy routes to, in id order.
    pub fn route_targets(&self, proxy: ServiceId) -> &[ServiceId] {
        &self.route_targets[proxy.index()]
    }

    /// Groups of services that depend on each other in a cycle (each group
    /// sorted, groups in order of their first member); a service that
    /// depends on itself is a group of one.
    pub fn dependency_cycles(&self) -> Vec<Vec<ServiceId>> {
        let deps = &self.depends;
        let mut cycles: Vec<Vec<ServiceId>> = tarjan_scc(deps)
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

#[cfg(test)]
mod tests {
    use crate::ir::ServiceId;

    #[test]
    fn cycles_and_route_targets() {
        let text = r#"
service a {
  image = "x:1"
  depends = [b]
  port 8080 internal
  route "/" -> c:80
  route "/2" -> c:80
}
service b {
  image = "x:1"
  depends = [a]
}
service c {
  image = "x:1"
  depends = [c]
  port 80 internal
}
service d {
  image = "x:1"
  depends = [a]
}
"#;
        let checked = crate::compile::compile_text("g.inf", text);
        let model = checked.drawable().expect("names and values are sound");
        let graph = super::Graph::build(model);
        let ids = |v: &[u32]| v.iter().map(|i| ServiceId(*i)).collect::<Vec<_>>();
        assert_eq!(
            graph.dependency_cycles(),
            vec![ids(&[0, 1]), ids(&[2])],
            "a-b and c's self-loop; d only depends"
        );
        assert_eq!(graph.route_targets(ServiceId(0)), ids(&[2]).as_slice());
        assert!(graph.route_targets(ServiceId(3)).is_empty());
    }
}
