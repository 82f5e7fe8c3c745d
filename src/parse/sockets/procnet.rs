//! Rows of `/proc/net/tcp` and `/proc/net/tcp6`:
//!
//! ```text
//!   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//!    2: 0100007F:18EB 0100007F:ABF2 08 00000000:00000065 00:00000000 00000000     0        0 22044 …
//! ```
//!
//! Addresses are hex, each 32-bit word in the host's byte order (little-endian on the
//! machines Go services run on); ports are hex in network order. The table has no owning
//! process: only the inode, which hangdoc does not map.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::endpoint::proc_state;
use crate::model::{Endpoint, Socket};

/// True for the header line (`sl  local_address rem_address …`).
pub fn is_header(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("sl ") && t.contains("local_address")
}

/// True when `line` starts like a row (`N: HEX:HEX`), whether or not the rest is good.
pub fn looks_like_row(line: &str) -> bool {
    let mut it = line.split_whitespace();
    let (Some(sl), Some(local)) = (it.next(), it.next()) else {
        return false;
    };
    sl.strip_suffix(':')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && local.contains(':')
        && local.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
}

/// Reads one row; `Err` says what is wrong with it.
pub fn row(line: &str) -> Result<Socket, String> {
    let mut it = line.split_whitespace().skip(1);
    let local = it.next().ok_or("no local address")?;
    let remote = it.next().ok_or("no remote address")?;
    let st = it.next().ok_or("no state")?;
    let queues = it.next().ok_or("no tx_queue:rx_queue")?;
    let state = u8::from_str_radix(st, 16).map_err(|_| format!("bad state code `{st}`"))?;
    let (tx, rx) = queues
        .split_once(':')
        .and_then(|(t, r)| {
            Some((
                u64::from_str_radix(t, 16).ok()?,
                u64::from_str_radix(r, 16).ok()?,
            ))
        })
        .ok_or_else(|| format!("bad tx_queue:rx_queue `{queues}`"))?;
    Ok(Socket {
        state: proc_state(state),
        local: hex_endpoint(local)?,
        remote: hex_endpoint(remote)?,
        recv_q: rx,
        send_q: tx,
        pid: None,
        process: None,
    })
}

fn hex_endpoint(text: &str) -> Result<Endpoint, String> {
    let bad = || format!("bad address `{text}`");
    let (addr, port) = text.split_once(':').ok_or_else(bad)?;
    let port = u16::from_str_radix(port, 16).map_err(|_| bad())?;
    let word = |i: usize| -> Result<[u8; 4], String> {
        let w = addr.get(i * 8..i * 8 + 8).ok_or_else(bad)?;
        // Printed as the u32 in host order: on little-endian hosts the first octet is last.
        Ok(u32::from_str_radix(w, 16).map_err(|_| bad())?.to_le_bytes())
    };
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut octets = [0u8; 16];
            for i in 0..4 {
                octets[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            let v6 = Ipv6Addr::from(octets);
            v6.to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6))
        }
        _ => return Err(bad()),
    };
    Ok(Endpoint {
        ip: (!ip.is_unspecified()).then_some(ip),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TcpState;

    // Hand-written rows in the kernel's layout.
    #[test]
    fn reads_v4_and_v6_rows() {
        let s = row("   2: 0100007F:18EB 0100007F:ABF2 08 00000000:00000065 00:00000000 00000000     0        0 22044 1").unwrap();
        assert_eq!(s.state, TcpState::CloseWait);
        assert_eq!(s.local.ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(s.local.port, 6379);
        assert_eq!(s.remote.port, 0xABF2);
        assert_eq!((s.recv_q, s.send_q), (101, 0));
        let s = row("   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 22037 1").unwrap();
        assert_eq!(s.state, TcpState::Listen);
        assert_eq!(s.local.ip, Some("::1".parse().unwrap()));
        assert_eq!(s.remote, Endpoint { ip: None, port: 0 });
        let s = row("   8: 0000000000000000FFFF00000100007F:1538 0000000000000000FFFF00000100007F:DCBC 08 00000000:00000006 00:00000000").unwrap();
        assert_eq!(s.local.ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(s.recv_q, 6);
    }

    #[test]
    fn bad_rows_say_why() {
        assert!(row("   2: 0100007F:18EB").unwrap_err().contains("remote"));
        assert!(
            row("   2: 0100007F:18EB 0100:ABF2 08 0:0")
                .unwrap_err()
                .contains("address")
        );
        assert!(
            row("   2: 0100007F:18EB 0100007F:ABF2 zz 0:0")
                .unwrap_err()
                .contains("state")
        );
    }
}
