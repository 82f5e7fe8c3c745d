use std::io::Cursor;
use std::net::IpAddr;

use super::*;
use crate::model::{Endpoint, Socket, TcpState};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/sockets/",
            $name
        ))
    };
}

fn read(text: &str) -> Snapshot {
    crate::parse::parse_reader(
        Box::new(Cursor::new(text.as_bytes().to_vec())),
        "t.txt",
        &Options::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn count(s: &Snapshot, state: TcpState) -> usize {
    s.sockets.iter().filter(|k| k.state == state).count()
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

/// What every table says about a socket, whatever its layout. For a listener `ss` prints
/// the backlog limit as Send-Q where the others print 0, so that is left out.
fn key(s: &Socket) -> (TcpState, Endpoint, Endpoint, u64, u64) {
    let send_q = if s.state == TcpState::Listen {
        0
    } else {
        s.send_q
    };
    (s.state, s.local.clone(), s.remote.clone(), s.recv_q, send_q)
}

fn keys(s: &Snapshot) -> Vec<(TcpState, Endpoint, Endpoint, u64, u64)> {
    let mut k: Vec<_> = s.sockets.iter().map(key).collect();
    k.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    k
}

#[test]
fn ss_tanp_scenario() {
    let s = read(fixture!("ss-tanp.txt"));
    assert_eq!(s.format, Some(Format::Sockets));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.sockets.len(), 25);
    assert_eq!(count(&s, TcpState::Listen), 3);
    assert_eq!(count(&s, TcpState::CloseWait), 9);
    assert_eq!(count(&s, TcpState::FinWait2), 9);
    assert_eq!(count(&s, TcpState::Established), 4);
    let cw = |port: u16| -> Vec<&Socket> {
        s.sockets
            .iter()
            .filter(|k| k.state == TcpState::CloseWait && k.local.port == port)
            .collect()
    };
    assert_eq!(cw(6379).len(), 5);
    assert!(cw(6379).iter().all(|k| k.recv_q == 101
        && k.local.ip == ip("127.0.0.1")
        && k.pid == Some(18322)
        && k.process.as_deref() == Some("python3")));
    assert_eq!(cw(8080).len(), 3);
    assert!(
        cw(8080)
            .iter()
            .all(|k| k.recv_q == 11 && k.local.ip == ip("::1"))
    );
    // The dual-stack socket's `[::ffff:127.0.0.1]` reads as IPv4.
    assert_eq!(cw(5432).len(), 1);
    assert_eq!(cw(5432)[0].local.ip, ip("127.0.0.1"));
    assert_eq!(cw(5432)[0].recv_q, 6);
    let fin = s
        .sockets
        .iter()
        .find(|k| k.state == TcpState::FinWait2)
        .unwrap();
    assert_eq!((fin.pid, fin.process.as_deref()), (None, None));
    let any = s
        .sockets
        .iter()
        .find(|k| k.state == TcpState::Listen && k.local.port == 5432)
        .unwrap();
    assert_eq!(any.local.ip, None);
    assert_eq!(any.remote, Endpoint { ip: None, port: 0 });
}

#[test]
fn every_full_table_says_the_same() {
    let reference = keys(&read(fixture!("ss-tanp.txt")));
    for (name, text) in [
        ("ss-tan", fixture!("ss-tan.txt").to_string()),
        ("netstat-anp", fixture!("netstat-anp.txt").to_string()),
        ("netstat-an", fixture!("netstat-an.txt").to_string()),
        ("netstat-a", fixture!("netstat-a.txt").to_string()),
        (
            "proc",
            format!(
                "{}{}",
                fixture!("proc-net-tcp.txt"),
                fixture!("proc-net-tcp6.txt")
            ),
        ),
    ] {
        let s = read(&text);
        assert!(s.warnings.is_empty(), "{name}: {:?}", s.warnings);
        assert_eq!(keys(&s), reference, "{name}");
    }
}

#[test]
fn netstat_anp_owner_and_skipped_unix_section() {
    let s = read(fixture!("netstat-anp.txt"));
    assert_eq!(s.sockets.len(), 25);
    let owned = s.sockets.iter().filter(|k| k.pid == Some(18322)).count();
    assert_eq!(
        owned, 16,
        "listeners, CLOSE_WAIT and the held ESTABLISHED ends"
    );
    assert!(
        s.sockets
            .iter()
            .filter(|k| k.pid.is_some())
            .all(|k| k.process.as_deref() == Some("python3"))
    );
}

#[test]
fn netstat_a_service_and_host_names() {
    let s = read(fixture!("netstat-a.txt"));
    let listen: Vec<(Option<IpAddr>, u16)> = s
        .sockets
        .iter()
        .filter(|k| k.state == TcpState::Listen)
        .map(|k| (k.local.ip, k.local.port))
        .collect();
    assert_eq!(
        listen,
        vec![(ip("127.0.0.1"), 6379), (None, 5432), (ip("::1"), 8080)]
    );
}

#[test]
fn ss_tn_has_no_listeners() {
    let s = read(fixture!("ss-tn.txt"));
    assert_eq!(s.sockets.len(), 22);
    assert_eq!(count(&s, TcpState::Listen), 0);
}

#[test]
fn ss_state_filter_without_state_column() {
    let text = fixture!("ss-tn-state-close-wait.txt");
    let s = read(text);
    assert_eq!(s.sockets.len(), 9);
    assert_eq!(count(&s, TcpState::Unknown), 9);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].line, Some(2));
    assert_eq!(
        s.sockets.iter().map(|k| k.recv_q).sum::<u64>(),
        5 * 101 + 3 * 11 + 6
    );
    // With the command line copied above the table, the state is known.
    let s = read(&format!("$ ss -tn state close-wait\n{text}"));
    assert_eq!(count(&s, TcpState::CloseWait), 9);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn proc_tables_separately() {
    let v4 = read(fixture!("proc-net-tcp.txt"));
    assert_eq!(v4.sockets.len(), 16);
    assert_eq!(count(&v4, TcpState::CloseWait), 5);
    let v6 = read(fixture!("proc-net-tcp6.txt"));
    assert_eq!(v6.sockets.len(), 9);
    assert_eq!(count(&v6, TcpState::CloseWait), 4);
}

// Hand-written: the incident's `netstat -a | grep` paste, no header, service names.
#[test]
fn headerless_netstat_with_service_names() {
    let s = read(
        "tcp6       0      0 localhost:synapse-nhttp localhost:56696         CLOSE_WAIT\n\
         tcp6       0      0 localhost:synapse-nhttp localhost:60666         CLOSE_WAIT\n\
         tcp        0      0 10.1.2.3:synapse-nhttp  10.1.2.9:http-alt       FIN_WAIT1\n",
    );
    assert_eq!(s.sockets.len(), 3);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(
        s.sockets[0].local,
        Endpoint {
            ip: ip("::1"),
            port: 8280
        }
    );
    assert_eq!(s.sockets[0].state, TcpState::CloseWait);
    assert_eq!(s.sockets[2].remote.port, 8080);
    assert_eq!(s.sockets[2].state, TcpState::FinWait1);
}

// Hand-written: `ss -an` with a Netid column, udp and unix rows, several owners.
#[test]
fn ss_with_netid_skips_other_protocols() {
    let s = read(
        "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
         u_str ESTAB  0      0      * 23456            * 23457\n\
         udp   UNCONN 0      0      0.0.0.0:68         0.0.0.0:*\n\
         tcp   LISTEN 0      4096   *:8280             *:*   users:((\"my svc\",pid=7,fd=3),(\"my svc\",pid=8,fd=3))\n\
         tcp   CLOSE-WAIT 12 0      [::ffff:10.0.0.5]:8280 [::ffff:10.0.0.6]:40000\n",
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.sockets.len(), 2);
    assert_eq!(s.sockets[0].pid, Some(7));
    assert_eq!(s.sockets[0].process.as_deref(), Some("my svc"));
    assert_eq!(s.sockets[1].local.ip, ip("10.0.0.5"));
    assert_eq!(s.sockets[1].recv_q, 12);
}

// Hand-written: BSD (macOS) and Windows netstat layouts.
#[test]
fn bsd_and_windows_netstat() {
    let s = read(
        "Active Internet connections (including servers)\n\
         Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)\n\
         tcp4       0      0  127.0.0.1.6379         127.0.0.1.50123        CLOSE_WAIT\n\
         tcp46      0      0  *.8080                 *.*                    LISTEN\n\
         udp4       0      0  *.5353                 *.*\n",
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.sockets.len(), 2);
    assert_eq!(
        s.sockets[0].local,
        Endpoint {
            ip: ip("127.0.0.1"),
            port: 6379
        }
    );
    assert_eq!(
        s.sockets[1].local,
        Endpoint {
            ip: None,
            port: 8080
        }
    );
    let w = read(
        "\nActive Connections\n\n  Proto  Local Address          Foreign Address        State           PID\n  \
         TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1032\n  \
         TCP    127.0.0.1:8280         127.0.0.1:50000        CLOSE_WAIT      4242\n  \
         UDP    0.0.0.0:500            *:*                                    4\n",
    );
    assert!(w.warnings.is_empty(), "{:?}", w.warnings);
    assert_eq!(w.sockets.len(), 2);
    assert_eq!(w.sockets[1].state, TcpState::CloseWait);
    assert_eq!(w.sockets[1].pid, Some(4242));
}

// Hand-written: damaged rows are warnings with line numbers; the rest still reads.
#[test]
fn malformed_rows_are_warnings() {
    let s = read(
        "State      Recv-Q Send-Q Local Address:Port Peer Address:Port\n\
         CLOSE-WAIT 5      0      127.0.0.1:80       127.0.0.1:5000\n\
         CLOSE-WAIT x      0      127.0.0.1:80       127.0.0.1:5001\n\
         ESTAB      0      0      127.0.0.1:80\n\
         garbage here\n\
         LISTEN     0      128    0.0.0.0:80         0.0.0.0:*\n",
    );
    assert_eq!(s.sockets.len(), 2);
    let lines: Vec<Option<u64>> = s.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, vec![Some(3), Some(4), Some(5)]);
    assert!(
        s.warnings[0].message.contains("Recv-Q `x`"),
        "{:?}",
        s.warnings
    );
}

#[test]
fn unknown_names_are_summarised() {
    let s =
        read("tcp        0      0 app-7.prod:synapse-nhttp  db.prod:no-such-svc   ESTABLISHED\n");
    assert_eq!(s.sockets.len(), 1);
    assert_eq!(s.sockets[0].local.port, 8280);
    assert_eq!(s.sockets[0].remote.port, 0);
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    assert!(
        s.warnings[0]
            .message
            .contains("2 addresses were host names")
    );
    assert!(s.warnings[1].message.contains("`no-such-svc` (1)"));
}

#[test]
fn sniff_leaves_dumps_alone() {
    assert_eq!(
        sniff(b"goroutine 1 [running]:\nmain.main()\n\t/x/main.go:5 +0x1d\n"),
        Some(false)
    );
    assert_eq!(
        sniff(b"goroutine profile: total 3\n1 @ 0x1 0x2\n"),
        Some(false)
    );
    assert_eq!(
        sniff(b"Recv-Q Send-Q Local Address:Port Peer Address:Port\n"),
        Some(true)
    );
    assert_eq!(
        sniff(b"ESTAB 0 0 10.0.0.1:5000 10.0.0.2:80\nESTAB 0 0 10.0.0.1:5001 10.0.0.2:80\n"),
        Some(true)
    );
}

#[test]
fn text_without_any_table_is_an_error() {
    let e = parse(
        Box::new(Cursor::new(b"hello\nworld\n".to_vec())),
        "x",
        &Options::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no socket table"), "{e}");
}
