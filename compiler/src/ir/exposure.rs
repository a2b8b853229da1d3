//! Exposure levels and the address ranges of `restricted(...)`, in one
//! canonical form: a [`Ranges`] is sorted, without duplicates, without a
//! range inside another and with adjacent halves merged (`10.0.0.0/25` and
//! `10.0.0.128/25` are `10.0.0.0/24`), so two spellings of one set of
//! addresses are one value. Equality of exposures is equality of reach,
//! and no backend sorts or merges again.

use std::fmt;
use std::ops::Deref;

use ipnet::IpNet;

use super::{Model, ServiceId};

/// A set of address ranges in canonical form (see the module header).
/// The only way to build one is [`Ranges::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Ranges(Vec<IpNet>);

impl Ranges {
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Ranges {
        let nets: Vec<IpNet> = nets.into_iter().map(|n| n.trunc()).collect();
        Ranges(IpNet::aggregate(&nets))
    }
}

impl Deref for Ranges {
    type Target = [IpNet];
    fn deref(&self) -> &[IpNet] {
        &self.0
    }
}

impl FromIterator<IpNet> for Ranges {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Ranges {
        Ranges::new(iter)
    }
}

/// An exposure level with its address ranges. Ordered from closed to open:
/// `Local < Internal < Restricted < Public`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Exposure {
    Local,
    Internal,
    Restricted(Ranges),
    Public,
}

impl Exposure {
    /// Position in the order of levels, ignoring address ranges.
    pub fn rank(&self) -> u8 {
        match self {
            Exposure::Local => 0,
            Exposure::Internal => 1,
            Exposure::Restricted(_) => 2,
            Exposure::Public => 3,
        }
    }

    pub fn word(&self) -> &'static str {
        match self {
            Exposure::Local => "local",
            Exposure::Internal => "internal",
            Exposure::Restricted(_) => "restricted",
            Exposure::Public => "public",
        }
    }

    /// Whether the port is published on the host (anything but `internal`).
    pub fn is_published(&self) -> bool {
        !matches!(self, Exposure::Internal)
    }

    /// The least upper bound: who can reach it through either.
    pub fn join(&self, other: &Exposure) -> Exposure {
        match (self, other) {
            (Exposure::Restricted(a), Exposure::Restricted(b)) => {
                Exposure::Restricted(a.iter().chain(b.iter()).copied().collect())
            }
            (a, b) if a.rank() >= b.rank() => a.clone(),
            (_, b) => b.clone(),
        }
    }

    /// The greatest lower bound: who can reach it through both (a route's
    /// allowlist narrowing its proxy's reach). Address ranges intersect
    /// exactly: two CIDRs are either nested or disjoint.
    pub fn meet(&self, other: &Exposure) -> Exposure {
        match (self, other) {
            (Exposure::Restricted(a), Exposure::Restricted(b)) => {
                let mut common: Vec<IpNet> = Vec::new();
                for x in a.iter() {
                    for y in b.iter() {
                        if x.contains(y) {
                            common.push(*y);
                        } else if y.contains(x) {
                            common.push(*x);
                        }
                    }
                }
                if common.is_empty() {
                    // Nobody outside can pass both lists: what is left is the
                    // reach a restricted port always has, its own networks.
                    Exposure::Internal
                } else {
                    Exposure::Restricted(Ranges::new(common))
                }
            }
            (a, b) if a.rank() <= b.rank() => a.clone(),
            (_, b) => b.clone(),
        }
    }

    /// Whether `self` reaches further than `other` (some source can reach
    /// through `self` that cannot through `other`).
    pub fn wider_than(&self, other: &Exposure) -> bool {
        &self.join(other) != other
    }
}

impl fmt::Display for Exposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exposure::Restricted(nets) => {
                let list: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
                write!(f, "restricted([{}])", list.join(", "))
            }
            other => f.write_str(other.word()),
        }
    }
}

/// One hop of the path that widened a port: the route `route` (an index
/// into the proxy's `routes`) of service `proxy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hop {
    pub proxy: ServiceId,
    pub route: usize,
}

/// Who reaches a `local` port of a service on compose and swarm, where
/// every container on a network reaches every port of the others: the
/// services that share a network with it. Built once per model (each
/// network's members, host-network services left out), so asking for
/// every service costs the sizes of its networks, not a scan of every
/// other service: that scan made a 3,000-service build spend 39% of its
/// time here.
pub struct LocalPeers<'m> {
    model: &'m Model,
    /// The services on each network, by [`NetworkId`], in declaration
    /// order; services on the host's network are on none.
    members: Vec<Vec<ServiceId>>,
}

impl<'m> LocalPeers<'m> {
    pub fn new(model: &'m Model) -> Self {
        let mut members = vec![Vec::new(); model.networks.len()];
        for (i, s) in model.services.iter().enumerate() {
            if s.host_network {
                continue;
            }
            for n in &s.networks {
                members[n.index()].push(ServiceId(i as u32));
            }
        }
        LocalPeers { model, members }
    }

    /// The services that share a network with service `id`, as
    /// ("`a`, `b`", "`backend`") for the messages; `None` when it shares
    /// none (or is on the host's network, which is judged as such). The
    /// checker warns (`local-reaches-peers`), and compose and swarm refuse
    /// such a port unless the program accepted that finding for the
    /// service.
    pub fn of(&self, id: ServiceId) -> Option<(String, String)> {
        let s = self.model.service(id);
        if s.host_network {
            return None;
        }
        // The peers' count and the first few names (all a message shows),
        // each peer counted once however many networks it shares.
        const SHOWN: usize = 4;
        let mut first: Vec<ServiceId> = Vec::new();
        let mut shared: Vec<&str> = Vec::new();
        let count = match s.networks.as_slice() {
            [only] => {
                let on = &self.members[only.index()];
                first.extend(on.iter().filter(|&&o| o != id).take(SHOWN));
                on.len().saturating_sub(1)
            }
            several => {
                let mut all: Vec<ServiceId> = several
                    .iter()
                    .flat_map(|n| self.members[n.index()].iter().copied())
                    .filter(|&o| o != id)
                    .collect();
                all.sort_unstable();
                all.dedup();
                first.extend(all.iter().take(SHOWN));
                all.len()
            }
        };
        if count == 0 {
            return None;
        }
        for n in &s.networks {
            if self.members[n.index()].iter().any(|&o| o != id) {
                shared.push(self.model.network(*n).name.as_str());
            }
        }
        shared.sort_unstable();
        shared.dedup();
        let peers: Vec<&str> = first
            .iter()
            .map(|&o| self.model.service(o).name.as_str())
            .collect();
        Some((quote(&peers, count), quote(&shared, shared.len())))
    }
}

/// "`a`, `b`" for up to four names, "`a`, `b`, `c` and N more" past that;
/// `names` holds the first ones of `count`.
fn quote(names: &[&str], count: usize) -> String {
    let all: Vec<String> = names.iter().map(|x| format!("`{x}`")).collect();
    if count > 4 {
        format!("{} and {} more", all[..3].join(", "), count - 3)
    } else {
        all.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(list: &[&str]) -> Ranges {
        list.iter().map(|s| s.parse::<IpNet>().unwrap()).collect()
    }

    #[test]
    fn one_spelling_per_set_of_addresses() {
        let canonical = ranges(&["10.0.0.0/24"]);
        assert_eq!(ranges(&["10.0.0.128/25", "10.0.0.0/25"]), canonical);
        assert_eq!(ranges(&["10.0.0.0/24", "10.0.0.7/32"]), canonical);
        assert_eq!(ranges(&["10.0.0.0/24", "10.0.0.0/24"]), canonical);
        assert_eq!(
            ranges(&["2001:db8::/48", "203.0.113.0/28", "10.0.0.0/8"]).to_vec(),
            ranges(&["10.0.0.0/8", "203.0.113.0/28", "2001:db8::/48"]).to_vec()
        );
        let a = Exposure::Restricted(ranges(&["10.0.0.0/25", "10.0.0.128/25"]));
        let b = Exposure::Restricted(canonical.clone());
        assert!(!a.wider_than(&b) && !b.wider_than(&a));
    }

    #[test]
    fn join_and_meet() {
        let r = |l: &[&str]| Exposure::Restricted(ranges(l));
        assert_eq!(
            r(&["10.0.0.0/8"]).join(&r(&["192.168.0.0/16"])),
            r(&["192.168.0.0/16", "10.0.0.0/8"])
        );
        assert_eq!(r(&["10.0.0.0/8"]).join(&Exposure::Public), Exposure::Public);
        assert_eq!(
            r(&["10.0.0.0/8"]).meet(&r(&["10.1.0.0/16", "192.168.0.0/16"])),
            r(&["10.1.0.0/16"])
        );
        assert_eq!(
            r(&["10.0.0.0/8"]).meet(&r(&["192.168.0.0/16"])),
            Exposure::Internal
        );
        assert_eq!(Exposure::Public.meet(&Exposure::Local), Exposure::Local);
    }
}
