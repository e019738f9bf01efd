//! Egress policy: which upstream addresses the gateway may connect to.
//!
//! Every upstream connection goes through one resolver
//! ([`crate::proxy::Resolver`]) that resolves the provider's host, checks
//! the address here, and connects to exactly that address. Loopback,
//! private, link-local (cloud metadata lives at 169.254.169.254),
//! carrier-grade NAT, multicast, site-local (`fec0::/10`), local-use NAT64
//! (`64:ff9b:1::/48`), IPv4-translated (`::ffff:0:0:0/96`) and reserved
//! ranges are refused unless the operator allow-lists them
//! (`AI_PROXY_EGRESS_ALLOW`, CIDR list), e.g. a
//! self-hosted model's subnet. Because the check runs on the resolved
//! address, every spelling of an address (`2130706433`, `0x7f.1`,
//! `[::ffff:127.0.0.1]`, a DNS name pointing inward) gets the same answer.

mod bearer;
pub mod call;
mod cidr;
pub mod exchange;
mod framing;
pub mod request;
mod resolver;
mod response_head;
pub mod upstream_body;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use cidr::{Cidr, CidrError};
pub use framing::{MAX_CHUNK_LINE_BYTES, MAX_TRAILER_BYTES};
pub use resolver::{DNS_TTL, EgressError, Resolver};
pub use response_head::{MAX_INFORMATIONAL_HEADS, MAX_RESPONSE_HEAD_BYTES, MAX_RESPONSE_HEADERS};

/// The pool of upstream connections every upstream call goes through
/// (Pingora's transport connector: TCP and TLS connections kept alive
/// between requests; HTTP/1.1 is spoken over them by [`exchange`]).
pub type Connector = pingora::connectors::TransportConnector;

/// Ranges refused unless allow-listed.
const DENIED_V4: &[(&str, [u8; 4], u8)] = &[
    ("this network", [0, 0, 0, 0], 8),
    ("private", [10, 0, 0, 0], 8),
    ("carrier-grade NAT", [100, 64, 0, 0], 10),
    ("loopback", [127, 0, 0, 0], 8),
    ("link-local / cloud metadata", [169, 254, 0, 0], 16),
    ("private", [172, 16, 0, 0], 12),
    ("IETF protocol assignments", [192, 0, 0, 0], 24),
    ("private", [192, 168, 0, 0], 16),
    ("benchmarking", [198, 18, 0, 0], 15),
    ("multicast", [224, 0, 0, 0], 4),
    ("reserved", [240, 0, 0, 0], 4),
];

/// The operator's egress rules.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    allow: Vec<Cidr>,
}

/// An address the policy refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{addr} is a {range} address, which is not allow-listed (AI_PROXY_EGRESS_ALLOW)")]
pub struct EgressDenied {
    pub addr: IpAddr,
    pub range: &'static str,
}

impl EgressPolicy {
    pub fn new(allow: Vec<Cidr>) -> EgressPolicy {
        EgressPolicy { allow }
    }

    /// Parses a comma-separated CIDR list.
    pub fn parse(list: &str) -> Result<EgressPolicy, CidrError> {
        let allow = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        Ok(EgressPolicy { allow })
    }

    /// Whether the gateway may connect to `addr`.
    pub fn check(&self, addr: IpAddr) -> Result<(), EgressDenied> {
        let Some(range) = denied_range(addr) else {
            return Ok(());
        };
        let canonical = canonical(addr);
        if self
            .allow
            .iter()
            .any(|c| c.contains(addr) || c.contains(canonical))
        {
            return Ok(());
        }
        Err(EgressDenied { addr, range })
    }
}

/// IPv4 addresses embedded in IPv6 (mapped, compatible, NAT64, 6to4)
/// judged as the IPv4 address they carry.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && v6 != Ipv6Addr::UNSPECIFIED && v6 != Ipv6Addr::LOCALHOST {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

fn denied_range(addr: IpAddr) -> Option<&'static str> {
    match canonical(addr) {
        IpAddr::V4(v4) => {
            if v4 == Ipv4Addr::BROADCAST {
                return Some("broadcast");
            }
            let bits = u32::from(v4);
            DENIED_V4.iter().find_map(|(name, net, len)| {
                let mask = u32::MAX.checked_shl(u32::from(32 - len)).unwrap_or(0);
                (bits & mask == u32::from_be_bytes(*net) & mask).then_some(*name)
            })
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let first = s[0];
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if first & 0xfe00 == 0xfc00 {
                Some("unique local (private)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if first & 0xffc0 == 0xfec0 {
                Some("site-local (deprecated)")
            } else if first & 0xff00 == 0xff00 {
                Some("multicast")
            } else if s[..3] == [0x64, 0xff9b, 1] {
                // RFC 8215: a local NAT64 prefix may embed the IPv4 address
                // anywhere, so the whole block is refused.
                Some("local-use NAT64")
            } else if s[..6] == [0, 0, 0, 0, 0xffff, 0] {
                // RFC 2765 IPv4-translated (SIIT): never a provider address.
                Some("IPv4-translated")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(policy: &EgressPolicy, addr: &str) -> bool {
        policy.check(addr.parse().expect("addr")).is_err()
    }

    #[test]
    fn inward_addresses_are_denied_by_default() {
        let p = EgressPolicy::default();
        for addr in [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(denied(&p, addr), "{addr} must be denied");
        }
    }

    #[test]
    fn local_nat64_site_local_and_translated_ranges_are_denied_at_their_edges() {
        let p = EgressPolicy::default();
        for addr in [
            "64:ff9b:1::",
            "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
            "64:ff9b:1::808:808",
            "fec0::",
            "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "::ffff:0:0:0",
            "::ffff:0:808:808",
            "::ffff:0:ffff:ffff",
        ] {
            assert!(denied(&p, addr), "{addr} must be denied");
        }
        for addr in [
            "64:ff9b:2::",
            "64:ff9b:0:1::",
            "2606:4700::1111",
            "::fffe:0:808:808",
        ] {
            assert!(!denied(&p, addr), "{addr} is outside the new ranges");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        let p = EgressPolicy::default();
        for addr in [
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(!denied(&p, addr), "{addr} must be allowed");
        }
    }

    #[test]
    fn allow_list_opens_exactly_its_range() {
        let p = EgressPolicy::parse("127.0.0.0/8, 10.20.0.0/16").expect("policy");
        assert!(!denied(&p, "127.0.0.1"));
        assert!(!denied(&p, "::ffff:127.0.0.1"));
        assert!(!denied(&p, "10.20.255.255"));
        assert!(denied(&p, "10.21.0.0"));
        assert!(denied(&p, "169.254.169.254"));
        assert!(denied(&p, "::1"));
    }
}
