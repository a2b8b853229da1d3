//! How much of the internet an address list lets in: "restricts nothing"
//! is a question about the union of the ranges, not about how `/0` is
//! spelled. `0.0.0.0/1` + `128.0.0.0/1` is every IPv4 address, `2000::/3`
//! is every global IPv6 unicast address, `::ffff:0:0/96` is every IPv4
//! address again (mapped into IPv6), and lists joined through `let` are
//! one list by the time they get here.
//!
//! The ranges are merged first (`ipnet`'s aggregate), so overlapping and
//! repeated entries are counted once. A list that covers half or more of
//! the IPv4 space, or of the global IPv6 unicast space, is open: it is the
//! internet with some holes, not a restriction.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// What share of each address family a list covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Coverage {
    /// Of the 2^32 IPv4 addresses (IPv4-mapped IPv6 ranges included).
    pub(crate) v4: f64,
    /// Of the 2^125 global unicast IPv6 addresses (`2000::/3`).
    pub(crate) v6: f64,
}

/// The share of the internet at which a list stops being a restriction.
const OPEN_SHARE: f64 = 0.5;

fn mapped_prefix() -> Ipv6Net {
    "::ffff:0:0/96".parse().expect("a valid IPv6 network")
}

fn global_unicast() -> Ipv6Net {
    "2000::/3".parse().expect("a valid IPv6 network")
}

/// The coverage of `nets`, from their merged union.
pub(crate) fn coverage(nets: &[IpNet]) -> Coverage {
    let mut v4: Vec<Ipv4Net> = Vec::new();
    let mut v6: Vec<Ipv6Net> = Vec::new();
    let mapped = mapped_prefix();
    for net in nets {
        match net {
            IpNet::V4(n) => v4.push(*n),
            IpNet::V6(n) if mapped.contains(n) => {
                // ::ffff:a.b.c.d/96+k is a.b.c.d/k.
                let bits = u128::from(n.network()) as u32;
                let prefix = n.prefix_len() - 96;
                v4.push(Ipv4Net::new(bits.into(), prefix).expect("prefix below 33"));
            }
            IpNet::V6(n) => {
                if n.contains(&mapped) {
                    v4.push("0.0.0.0/0".parse().expect("a valid IPv4 network"));
                }
                v6.push(*n);
            }
        }
    }
    let v4_count: u64 = Ipv4Net::aggregate(&v4)
        .iter()
        .map(|n| 1u64 << (32 - u32::from(n.prefix_len())))
        .sum();
    let global = global_unicast();
    let v6_count: u128 = Ipv6Net::aggregate(&v6)
        .iter()
        .map(|n| {
            if n.contains(&global) {
                1u128 << 125
            } else if global.contains(n) {
                1u128 << (128 - u32::from(n.prefix_len()))
            } else {
                0
            }
        })
        .sum();
    Coverage {
        v4: v4_count as f64 / (1u64 << 32) as f64,
        v6: v6_count as f64 / (1u128 << 125) as f64,
    }
}

/// Why the list lets everyone in, if it does: empty, or covering half or
/// more of an address family.
pub(crate) fn open_reason(nets: &[IpNet]) -> Option<String> {
    if nets.is_empty() {
        return Some("the list is empty".to_string());
    }
    if let Some(zero) = nets.iter().find(|n| n.prefix_len() == 0) {
        return Some(format!("`{zero}` contains every address"));
    }
    let c = coverage(nets);
    let percent = |share: f64| {
        let p = share * 100.0;
        if p >= 99.995 {
            "all".to_string()
        } else {
            format!("{p:.2}%")
        }
    };
    if c.v4 >= OPEN_SHARE {
        return Some(format!(
            "together its ranges cover {} of the IPv4 addresses",
            percent(c.v4)
        ));
    }
    if c.v6 >= OPEN_SHARE {
        return Some(format!(
            "together its ranges cover {} of the global IPv6 addresses (2000::/3)",
            percent(c.v6)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn halves_and_spellings_are_open() {
        for list in [
            &["0.0.0.0/1", "128.0.0.0/1"][..],
            &["2000::/3"],
            &["::/0"],
            &["::ffff:0:0/96"],
            &["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2"],
            &["0.0.0.0/1"],
            &["::/1"],
        ] {
            assert!(open_reason(&nets(list)).is_some(), "{list:?}");
        }
    }

    #[test]
    fn real_restrictions_are_not() {
        for list in [
            &["203.0.113.0/24"][..],
            &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
            &["2001:db8::/32"],
            &["0.0.0.0/2", "64.0.0.0/3"],
            &["203.0.113.7/32", "203.0.113.7/32"],
            &["fc00::/7"],
        ] {
            assert!(open_reason(&nets(list)).is_none(), "{list:?}");
        }
    }

    #[test]
    fn overlaps_count_once() {
        let c = coverage(&nets(&["0.0.0.0/2", "0.0.0.0/2", "0.0.0.0/3"]));
        assert!((c.v4 - 0.25).abs() < 1e-9);
    }
}
