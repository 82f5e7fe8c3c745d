//! The pieces every socket table shares: `host:port` endpoints in all the spellings `ss` and
//! `netstat` use, TCP state names, and the service-name table that maps `redis` back to 6379.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use crate::model::{Endpoint, TcpState};

/// `name port` lines generated from the standard `/etc/services` TCP entries (see
/// `scenarios/sockets/gen-services.sh`); embedded so that results do not depend on the
/// machine reading the table.
const SERVICES: &str = include_str!("services.txt");

fn services() -> &'static HashMap<&'static str, u16> {
    static TABLE: OnceLock<HashMap<&'static str, u16>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = HashMap::new();
        for line in SERVICES.lines().filter(|l| !l.starts_with('#')) {
            let mut it = line.split_whitespace();
            if let (Some(name), Some(Ok(port))) = (it.next(), it.next().map(str::parse::<u16>)) {
                // The first line for a name wins: the standard file before the extras.
                map.entry(name).or_insert(port);
            }
        }
        map
    })
}

/// The port a TCP service name stands for (`synapse-nhttp` → 8280), if known.
pub fn service_port(name: &str) -> Option<u16> {
    services().get(name).copied()
}

/// A TCP state as `ss` (`CLOSE-WAIT`, `ESTAB`), Linux `netstat` (`CLOSE_WAIT`), BSD
/// `netstat` (`FIN_WAIT_2`, `SYN_RCVD`) or Windows `netstat` (`LISTENING`) spell it.
pub fn tcp_state(word: &str) -> Option<TcpState> {
    let mut norm = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            '-' | '_' => {}
            c if c.is_ascii_alphanumeric() => norm.push(c.to_ascii_uppercase()),
            _ => return None,
        }
    }
    Some(match norm.as_str() {
        "ESTAB" | "ESTABLISHED" => TcpState::Established,
        "SYNSENT" => TcpState::SynSent,
        "SYNRECV" | "SYNRCVD" | "SYNRECEIVED" => TcpState::SynRecv,
        "FINWAIT1" => TcpState::FinWait1,
        "FINWAIT2" => TcpState::FinWait2,
        "TIMEWAIT" => TcpState::TimeWait,
        "CLOSE" | "CLOSED" | "UNCONN" => TcpState::Close,
        "CLOSEWAIT" => TcpState::CloseWait,
        "LASTACK" => TcpState::LastAck,
        "LISTEN" | "LISTENING" => TcpState::Listen,
        "CLOSING" => TcpState::Closing,
        "UNKNOWN" => TcpState::Unknown,
        _ => return None,
    })
}

/// The state for a `/proc/net/tcp` `st` code (`include/net/tcp_states.h`).
pub fn proc_state(code: u8) -> TcpState {
    match code {
        0x01 => TcpState::Established,
        0x02 => TcpState::SynSent,
        0x03 => TcpState::SynRecv,
        0x04 => TcpState::FinWait1,
        0x05 => TcpState::FinWait2,
        0x06 => TcpState::TimeWait,
        0x07 => TcpState::Close,
        0x08 => TcpState::CloseWait,
        0x09 => TcpState::LastAck,
        0x0A => TcpState::Listen,
        0x0B => TcpState::Closing,
        _ => TcpState::Unknown,
    }
}

/// Which address family a row belongs to, when its table says (`tcp` / `tcp6`); decides
/// what `localhost` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 or not said.
    V4,
    /// IPv6 (`tcp6`).
    V6,
}

/// What could not be fully understood in an endpoint that was still kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lossy {
    /// The host was a name other than `localhost`: the address is unknown (`ip: None`).
    HostName(String),
    /// The port was a service name not in the table: the port is unknown (0).
    Service(String),
}

/// An endpoint and what was lost reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Parts that could not be turned into numbers.
    pub lossy: Vec<Lossy>,
}

/// Reads one endpoint: `127.0.0.1:6379`, `[::1]:8080`, `[::ffff:127.0.0.1]:80`, `*:*`,
/// `0.0.0.0:*`, `:::5432`, `::1:8080`, `[fe80::1]%eth0:22`, `localhost:redis`,
/// `db.example.com:postgresql`, BSD `127.0.0.1.6379` / `*.*`. Returns `None` when it is not
/// an endpoint at all.
///
/// IPv4-mapped IPv6 addresses are stored as IPv4 (`netstat` prints them that way already),
/// so the same connection reads alike from every table.
pub fn endpoint(text: &str, family: Family) -> Option<Parsed> {
    let (host, port) = split_host_port(text)?;
    let mut lossy = Vec::new();
    let port = match port {
        "*" => 0,
        p if p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u16>().ok()?,
        name if is_service_name(name) => match service_port(name) {
            Some(p) => p,
            None => {
                lossy.push(Lossy::Service(name.to_string()));
                0
            }
        },
        _ => return None,
    };
    let ip = host_ip(host, family, &mut lossy)?;
    Some(Parsed {
        endpoint: Endpoint { ip, port },
        lossy,
    })
}

fn is_service_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_+./".contains(&b))
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

fn split_host_port(text: &str) -> Option<(&str, &str)> {
    if let Some(rest) = text.strip_prefix('[') {
        let close = rest.find(']')?;
        let host = &rest[..close];
        let after = &rest[close + 1..];
        // `[fe80::1]%eth0:22`: the zone may follow the bracket.
        let colon = after.rfind(':')?;
        if !after[..colon].is_empty() && !after.starts_with('%') {
            return None;
        }
        return Some((host, &after[colon + 1..]));
    }
    if let Some(colon) = text.rfind(':') {
        let port = &text[colon + 1..];
        if port == "*" || (!port.is_empty() && is_service_name_or_number(port)) {
            return Some((&text[..colon], port));
        }
    }
    // BSD netstat: `127.0.0.1.6379`, `*.*`, `::1.8080`.
    let dot = text.rfind('.')?;
    Some((&text[..dot], &text[dot + 1..]))
}

fn is_service_name_or_number(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit()) || is_service_name(s) && !s.contains('.')
}

fn host_ip(host: &str, family: Family, lossy: &mut Vec<Lossy>) -> Option<Option<IpAddr>> {
    let host = host.split('%').next().unwrap_or(host);
    if host.is_empty() || host == "*" {
        return Some(None);
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        return Some((!ip.is_unspecified()).then_some(ip));
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Some(Some(match family {
            Family::V4 => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Family::V6 => IpAddr::V6(Ipv6Addr::LOCALHOST),
        }));
    }
    let hostname = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if !hostname || host.starts_with('.') {
        return None;
    }
    lossy.push(Lossy::HostName(host.to_string()));
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(text: &str) -> (Option<IpAddr>, u16) {
        let p = endpoint(text, Family::V4).unwrap_or_else(|| panic!("{text}"));
        (p.endpoint.ip, p.endpoint.port)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn numeric_spellings() {
        assert_eq!(ep("127.0.0.1:6379"), (ip("127.0.0.1"), 6379));
        assert_eq!(ep("[::1]:8080"), (ip("::1"), 8080));
        assert_eq!(ep("[::ffff:127.0.0.1]:80"), (ip("127.0.0.1"), 80));
        assert_eq!(ep("*:*"), (None, 0));
        assert_eq!(ep("0.0.0.0:*"), (None, 0));
        assert_eq!(ep("[::]:*"), (None, 0));
        assert_eq!(ep(":::5432"), (None, 5432));
        assert_eq!(ep(":::*"), (None, 0));
        assert_eq!(ep("::1:8080"), (ip("::1"), 8080));
        assert_eq!(ep("[fe80::1]%eth0:22"), (ip("fe80::1"), 22));
        assert_eq!(ep("fe80::1%eth0:22"), (ip("fe80::1"), 22));
    }

    #[test]
    fn bsd_dot_port() {
        assert_eq!(ep("127.0.0.1.6379"), (ip("127.0.0.1"), 6379));
        assert_eq!(ep("*.*"), (None, 0));
        assert_eq!(ep("*.8080"), (None, 8080));
        assert_eq!(ep("::1.8080"), (ip("::1"), 8080));
    }

    #[test]
    fn service_and_host_names() {
        assert_eq!(ep("localhost:synapse-nhttp"), (ip("127.0.0.1"), 8280));
        assert_eq!(ep("[::]:postgresql"), (None, 5432));
        assert_eq!(ep("*:https"), (None, 443));
        assert_eq!(ep("0.0.0.0:ssh"), (None, 22));
        let p = endpoint("localhost:redis", Family::V6).unwrap();
        assert_eq!(p.endpoint.ip, ip("::1"));
        assert_eq!(p.endpoint.port, 6379);
        let p = endpoint("db-3.internal:mysql", Family::V4).unwrap();
        assert_eq!(
            p.endpoint,
            Endpoint {
                ip: None,
                port: 3306
            }
        );
        assert_eq!(p.lossy, vec![Lossy::HostName("db-3.internal".into())]);
        let p = endpoint("10.0.0.1:no-such-svc", Family::V4).unwrap();
        assert_eq!(p.endpoint.port, 0);
        assert_eq!(p.lossy, vec![Lossy::Service("no-such-svc".into())]);
    }

    #[test]
    fn rejects_non_endpoints() {
        for bad in [
            "",
            "LISTEN",
            "123",
            "a b:1",
            "127.0.0.1:99999",
            "[::1:80",
            "users:((x",
        ] {
            assert!(endpoint(bad, Family::V4).is_none(), "{bad}");
        }
    }

    #[test]
    fn state_spellings() {
        assert_eq!(tcp_state("CLOSE-WAIT"), Some(TcpState::CloseWait));
        assert_eq!(tcp_state("CLOSE_WAIT"), Some(TcpState::CloseWait));
        assert_eq!(tcp_state("ESTAB"), Some(TcpState::Established));
        assert_eq!(tcp_state("FIN_WAIT_2"), Some(TcpState::FinWait2));
        assert_eq!(tcp_state("FIN-WAIT-1"), Some(TcpState::FinWait1));
        assert_eq!(tcp_state("SYN_RCVD"), Some(TcpState::SynRecv));
        assert_eq!(tcp_state("LISTENING"), Some(TcpState::Listen));
        assert_eq!(tcp_state("close-wait"), Some(TcpState::CloseWait));
        assert_eq!(tcp_state("0"), None);
        assert_eq!(tcp_state("tcp"), None);
    }
}
