//! How a browser or script reached the admin port: directly, over TLS when
//! the gateway has a certificate (`AI_PROXY_TLS_CERT`), or through reverse
//! proxies the operator declares trusted (`AI_PROXY_TRUSTED_PROXIES`).
//!
//! Forwarding headers are believed only from a trusted proxy's address:
//! `X-Forwarded-Proto` says whether the browser used HTTPS (so the session
//! cookie gets `Secure` and the console's own origin has the right scheme),
//! and `X-Forwarded-For` names the client address that sign-in throttling
//! counts, walked from the right past trusted hops. From anyone else these
//! headers are ignored: a client cannot pick its own address or scheme.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::egress::Cidr;

/// The admin port's transport and the proxies in front of it.
#[derive(Debug, Clone, Default)]
pub struct ConsoleTransport {
    tls: bool,
    trusted_proxies: Vec<Cidr>,
}

/// An IPv4 client seen on an IPv6 socket, as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl ConsoleTransport {
    pub fn new(tls: bool, trusted_proxies: Vec<Cidr>) -> ConsoleTransport {
        ConsoleTransport {
            tls,
            trusted_proxies,
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }

    /// Whether the caller reached the console over HTTPS: the gateway's own
    /// TLS, or a trusted proxy saying `X-Forwarded-Proto: https` (its last
    /// value: the one the nearest proxy wrote).
    pub fn is_https(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        if self.tls {
            return true;
        }
        peer.is_some_and(|p| self.trusts(p))
            && headers
                .get_all("x-forwarded-proto")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    }

    /// The client's address: the connection's peer, or, when the peer is a
    /// trusted proxy, the nearest `X-Forwarded-For` hop that is not one.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(canonical)?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut hops = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(value) = value.to_str() else {
                return Some(peer);
            };
            for hop in value.split(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(ip) => hops.push(canonical(ip)),
                    // A hop we cannot read: stop believing the chain there.
                    Err(_) => return Some(peer),
                }
            }
        }
        let first = hops.first().copied();
        hops.into_iter()
            .rev()
            .find(|hop| !self.trusts(*hop))
            .or(first)
            .or(Some(peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("value"));
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    fn behind_proxy() -> ConsoleTransport {
        ConsoleTransport::new(false, vec!["10.0.0.0/8".parse().expect("cidr")])
    }

    #[test]
    fn forwarded_proto_counts_only_from_a_trusted_proxy() {
        let t = behind_proxy();
        let https = headers(&[("x-forwarded-proto", "https")]);
        assert!(t.is_https(ip("10.1.2.3"), &https));
        assert!(t.is_https(ip("::ffff:10.1.2.3"), &https), "mapped v4");
        assert!(!t.is_https(ip("192.0.2.9"), &https), "untrusted peer");
        assert!(!t.is_https(ip("10.1.2.3"), &headers(&[])));
        assert!(
            !t.is_https(
                ip("10.1.2.3"),
                &headers(&[("x-forwarded-proto", "https, http")])
            ),
            "the nearest proxy's word counts"
        );
        let direct = ConsoleTransport::new(true, vec![]);
        assert!(direct.is_https(ip("192.0.2.9"), &headers(&[])));
        assert!(!ConsoleTransport::default().is_https(ip("10.1.2.3"), &https));
    }

    #[test]
    fn client_address_walks_forwarded_for_past_trusted_hops_only() {
        let t = behind_proxy();
        let xff = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.7, 10.0.0.5")]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &xff), ip("203.0.113.7"));
        assert_eq!(
            t.client_ip(ip("192.0.2.9"), &xff),
            ip("192.0.2.9"),
            "an untrusted peer cannot choose its address"
        );
        assert_eq!(t.client_ip(ip("10.0.0.1"), &headers(&[])), ip("10.0.0.1"));
        assert_eq!(
            t.client_ip(
                ip("10.0.0.1"),
                &headers(&[("x-forwarded-for", "junk, 203.0.113.7")])
            ),
            ip("10.0.0.1")
        );
        assert_eq!(
            t.client_ip(ip("10.0.0.1"), &headers(&[("x-forwarded-for", "10.0.0.7")])),
            ip("10.0.0.7"),
            "all hops trusted: the farthest one"
        );
    }
}
