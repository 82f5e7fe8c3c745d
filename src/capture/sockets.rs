//! The local socket table around a target: `ss -tanp` (or `/proc/net/tcp{,6}` where `ss` is
//! missing), kept to the target's port and, when the target runs on this machine, to every
//! socket of the process listening on it.

use std::collections::BTreeSet;
use std::net::{IpAddr, ToSocketAddrs};
use std::process::Command;
use std::time::Duration;

/// One socket table file of a bundle.
#[derive(Debug, Clone)]
pub struct Table {
    /// File name in the bundle (`ss.txt`, `proc-net-tcp.txt`, `proc-net-tcp6.txt`).
    pub name: &'static str,
    /// Where it came from (`ss -tanp`, `/proc/net/tcp`).
    pub command: &'static str,
    /// The kept lines, header first.
    pub text: String,
    /// Rows kept.
    pub rows: usize,
}

/// The tables and what they say about the target.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    /// The tables (one from `ss`, or one per `/proc` file).
    pub tables: Vec<Table>,
    /// Whether the target's address is one of this machine's.
    pub local: bool,
    /// The processes listening on the target's port, when local and visible.
    pub pids: Vec<u32>,
    /// Things worth knowing (no `ss`, no process visible, …).
    pub notes: Vec<String>,
}

/// Takes the socket table, kept to `port` and to the sockets of the process listening on it.
pub fn capture(host: &str, port: u16) -> Capture {
    let ips = resolve(host, port);
    match run_ss() {
        Ok(text) => from_ss(&text, &ips, port),
        Err(why) => {
            let mut c = from_proc(&ips, port);
            c.notes.insert(
                0,
                format!("ss -tanp unavailable ({why}); read /proc/net/tcp{{,6}} instead"),
            );
            c
        }
    }
}

fn resolve(host: &str, port: u16) -> Vec<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return vec![ip];
    }
    (host, port)
        .to_socket_addrs()
        .map(|it| it.map(|a| a.ip()).collect())
        .unwrap_or_default()
}

fn run_ss() -> Result<String, String> {
    use std::io::Read as _;
    let mut child = Command::new("ss")
        .args(["-tanp"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    // Drain both pipes while waiting: a busy machine's table is larger than a pipe holds,
    // and ss blocked on a full pipe would never exit.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    // ss answers in milliseconds; a wedged one must not hold the capture.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("ss did not finish within 20 s".into());
            }
        }
    };
    let out = stdout.join().unwrap_or_default();
    if !status.success() {
        let err = stderr.join().unwrap_or_default();
        return Err(String::from_utf8_lossy(&err).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Splits `addr:port` (`127.0.0.1:80`, `[::1]:80`, `*:80`, `[::ffff:1.2.3.4]:80`,
/// `fe80::1%eth0:80`) into an address (None for a wildcard) and a port.
fn split_endpoint(s: &str) -> Option<(Option<IpAddr>, u16)> {
    let (addr, port) = s.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let addr = addr.split('%').next().unwrap_or(addr);
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    if addr == "*" || addr.is_empty() {
        return Some((None, port));
    }
    let ip: IpAddr = addr.parse().ok()?;
    Some((
        if ip.is_unspecified() {
            None
        } else {
            Some(canonical(ip))
        },
        port,
    ))
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether a listener bound to `bound` (None: all addresses) accepts connections to `target`.
fn accepts(bound: Option<IpAddr>, target: &[IpAddr]) -> bool {
    match bound {
        None => true,
        Some(b) => target.iter().any(|t| {
            let t = canonical(*t);
            t == b || (t.is_loopback() && b.is_loopback())
        }),
    }
}

fn from_ss(text: &str, ips: &[IpAddr], port: u16) -> Capture {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let rows: Vec<&str> = lines.collect();
    let pid_of = |line: &str| -> Vec<u32> {
        line.match_indices("pid=")
            .filter_map(|(i, m)| {
                let rest = &line[i + m.len()..];
                let end = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                rest[..end].parse().ok()
            })
            .collect()
    };
    let local_addrs: BTreeSet<IpAddr> = rows
        .iter()
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter_map(split_endpoint)
        .filter_map(|(a, _)| a)
        .collect();
    let local = ips
        .iter()
        .any(|ip| ip.is_loopback() || local_addrs.contains(&canonical(*ip)));
    let mut pids = BTreeSet::new();
    let mut listening = false;
    if local {
        for l in &rows {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() >= 5
                && f[0] == "LISTEN"
                && split_endpoint(f[3]).is_some_and(|(a, p)| p == port && accepts(a, ips))
            {
                listening = true;
                pids.extend(pid_of(l));
            }
        }
    }
    // hangdoc's own connection to the target is not evidence about the target.
    let me = std::process::id();
    let keep: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|l| pid_of(l) != [me])
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let port_hit = f.len() >= 5
                && (f[3..5]
                    .iter()
                    .any(|e| split_endpoint(e).is_some_and(|(_, p)| p == port)));
            port_hit || pid_of(l).iter().any(|p| pids.contains(p))
        })
        .collect();
    let mut notes = Vec::new();
    if local && !listening {
        notes.push(format!(
            "no socket listens on port {port} here: the table holds only connections to it"
        ));
    } else if local && pids.is_empty() {
        notes.push(format!(
            "the process listening on port {port} is not visible to ss (run as its user or root to see it): the table holds only that port"
        ));
    } else if !local {
        notes.push(format!(
            "the target is not on this machine: the table holds only this machine's connections to port {port}"
        ));
    }
    let mut out = String::with_capacity(keep.iter().map(|l| l.len() + 1).sum::<usize>() + 200);
    out.push_str(header);
    out.push('\n');
    for l in &keep {
        out.push_str(l);
        out.push('\n');
    }
    Capture {
        tables: vec![Table {
            name: "ss.txt",
            command: "ss -tanp",
            text: out,
            rows: keep.len(),
        }],
        local,
        pids: pids.into_iter().collect(),
        notes,
    }
}

/// One `/proc/net/tcp{,6}` row: its text, local and remote (address, port), state, inode.
struct ProcRow<'a> {
    line: &'a str,
    local: (Option<IpAddr>, u16),
    remote: (Option<IpAddr>, u16),
    listen: bool,
    inode: u64,
}

fn proc_row(line: &str) -> Option<ProcRow<'_>> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 10 || !f[0].ends_with(':') {
        return None;
    }
    Some(ProcRow {
        line,
        local: proc_endpoint(f[1])?,
        remote: proc_endpoint(f[2])?,
        listen: f[3] == "0A",
        inode: f[9].parse().ok()?,
    })
}

fn proc_endpoint(s: &str) -> Option<(Option<IpAddr>, u16)> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match addr.len() {
        8 => {
            let w = u32::from_str_radix(addr, 16).ok()?;
            IpAddr::from(w.to_le_bytes())
        }
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                let w = u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).ok()?;
                b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
            IpAddr::from(b)
        }
        _ => return None,
    };
    Some((
        if ip.is_unspecified() {
            None
        } else {
            Some(canonical(ip))
        },
        port,
    ))
}

/// Socket inodes of each process: `/proc/PID/fd/*` links to `socket:[INODE]`.
fn socket_owners(wanted: &BTreeSet<u64>) -> Vec<(u32, BTreeSet<u64>)> {
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let inodes: BTreeSet<u64> = fds
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter_map(|l| {
                l.to_str()?
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()
            })
            .collect();
        if !inodes.is_disjoint(wanted) {
            out.push((pid, inodes));
        }
    }
    out
}

fn from_proc(ips: &[IpAddr], port: u16) -> Capture {
    const FILES: [(&str, &str, &str); 2] = [
        ("/proc/net/tcp", "proc-net-tcp.txt", "/proc/net/tcp"),
        ("/proc/net/tcp6", "proc-net-tcp6.txt", "/proc/net/tcp6"),
    ];
    let texts: Vec<(&'static str, &'static str, String)> = FILES
        .iter()
        .filter_map(|(path, name, cmd)| {
            std::fs::read_to_string(path).ok().map(|t| (*name, *cmd, t))
        })
        .collect();
    let mut notes = Vec::new();
    if texts.is_empty() {
        notes.push("neither ss nor /proc/net/tcp is readable: no socket table".into());
        return Capture {
            notes,
            ..Capture::default()
        };
    }
    let all: Vec<ProcRow> = texts
        .iter()
        .flat_map(|(_, _, t)| t.lines().skip(1).filter_map(proc_row))
        .collect();
    let local_addrs: BTreeSet<IpAddr> = all.iter().filter_map(|r| r.local.0).collect();
    let local = ips
        .iter()
        .any(|ip| ip.is_loopback() || local_addrs.contains(&canonical(*ip)));
    let listeners: BTreeSet<u64> = all
        .iter()
        .filter(|r| local && r.listen && r.local.1 == port && accepts(r.local.0, ips))
        .map(|r| r.inode)
        .collect();
    let owners = if listeners.is_empty() {
        Vec::new()
    } else {
        socket_owners(&listeners)
    };
    let owned: BTreeSet<u64> = owners.iter().flat_map(|(_, s)| s.iter().copied()).collect();
    let pids: Vec<u32> = owners.iter().map(|(p, _)| *p).collect();
    if local && listeners.is_empty() {
        notes.push(format!(
            "no socket listens on port {port} here: the tables hold only connections to it"
        ));
    } else if local && pids.is_empty() {
        notes.push(format!("the process listening on port {port} is not visible (run as its user or root): the tables hold only that port"));
    } else if !local {
        notes.push(format!("the target is not on this machine: the tables hold only this machine's connections to port {port}"));
    }
    let mut tables = Vec::new();
    for (name, command, text) in &texts {
        let header = text.lines().next().unwrap_or("");
        let mut out = format!("{header}\n");
        let mut rows = 0;
        for r in text.lines().skip(1).filter_map(proc_row) {
            if r.local.1 == port || r.remote.1 == port || owned.contains(&r.inode) {
                out.push_str(r.line);
                out.push('\n');
                rows += 1;
            }
        }
        if rows > 0 {
            tables.push(Table {
                name,
                command,
                text: out,
                rows,
            });
        }
    }
    Capture {
        tables,
        local,
        pids,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-written: the shape of `ss -tanp` output.
    const SS: &str = "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process
LISTEN 0      4096       127.0.0.1:6060      0.0.0.0:*     users:((\"svc\",pid=42,fd=5))
LISTEN 0      4096       127.0.0.1:8080      0.0.0.0:*     users:((\"svc\",pid=42,fd=6))
ESTAB  0      0          127.0.0.1:8080    127.0.0.1:5555  users:((\"svc\",pid=42,fd=9))
ESTAB  0      0          127.0.0.1:5555    127.0.0.1:8080  users:((\"client\",pid=77,fd=3))
LISTEN 0      128          0.0.0.0:22        0.0.0.0:*     users:((\"sshd\",pid=1,fd=3))
";

    #[test]
    fn ss_keeps_the_port_and_every_socket_of_the_listening_process() {
        let c = from_ss(SS, &["127.0.0.1".parse().unwrap()], 6060);
        assert!(c.local);
        assert_eq!(c.pids, [42]);
        let t = &c.tables[0].text;
        assert!(t.starts_with("State"));
        assert!(t.contains(":8080    127.0.0.1:5555"), "{t}");
        assert!(!t.contains("sshd") && !t.contains("client"), "{t}");
        assert_eq!(c.tables[0].rows, 3);
    }

    #[test]
    fn a_remote_target_keeps_only_its_port() {
        let c = from_ss(SS, &["10.9.9.9".parse().unwrap()], 8080);
        assert!(!c.local);
        assert!(c.pids.is_empty());
        // Only rows with port 8080 on either side.
        assert_eq!(c.tables[0].rows, 3);
        assert!(c.notes[0].contains("not on this machine"));
    }

    #[test]
    fn proc_tables_find_the_process_listening_on_a_real_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let c = from_proc(&["127.0.0.1".parse().unwrap()], port);
        assert!(c.local);
        assert!(c.pids.contains(&std::process::id()), "{:?}", c.notes);
        let t = &c.tables[0];
        assert_eq!(t.name, "proc-net-tcp.txt");
        assert!(t.text.contains(&format!(":{port:04X} ")), "{}", t.text);
    }

    #[test]
    fn proc_endpoints_decode_v4_and_v6() {
        assert_eq!(
            proc_endpoint("0100007F:17A0"),
            Some((Some("127.0.0.1".parse().unwrap()), 6048))
        );
        assert_eq!(proc_endpoint("00000000:0016"), Some((None, 22)));
        assert_eq!(
            proc_endpoint("00000000000000000000000001000000:0050"),
            Some((Some("::1".parse().unwrap()), 80))
        );
    }

    #[test]
    fn ss_endpoints_with_brackets_wildcards_and_zones() {
        assert_eq!(split_endpoint("*:80"), Some((None, 80)));
        assert_eq!(split_endpoint("[::]:80"), Some((None, 80)));
        assert_eq!(
            split_endpoint("[::ffff:127.0.0.1]:80"),
            Some((Some("127.0.0.1".parse().unwrap()), 80))
        );
        assert_eq!(split_endpoint("[fe80::1]%eth0:80").map(|e| e.1), Some(80));
    }
}
