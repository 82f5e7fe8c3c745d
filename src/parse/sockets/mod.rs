//! Socket tables: `ss` (`-tan`, `-tanp`, `-tn`, `-H`, with or without the State column that
//! a `state X` filter drops), `netstat` (`-an`, `-anp`, `-a` with service and host names,
//! BSD and Windows layouts) and `/proc/net/tcp{,6}`, also several of them concatenated.
//!
//! The parser reads line by line. Header lines say which table follows, but every row is
//! recognised from its own shape, so headerless output (`ss -H`, `netstat | grep 8280`) reads
//! too. Only TCP rows are kept: UDP, raw and unix sockets are skipped. A row that looks like
//! TCP but does not parse is a warning with its line number; the rest still reads.

mod endpoint;
mod procnet;

use std::io::BufRead;

use self::endpoint::{Family, Lossy, Parsed, tcp_state};
use super::{Options, ParseError};
use crate::model::{Format, Snapshot, Socket, TcpState, Warning};

pub use self::endpoint::service_port;

/// Warnings kept per input; past this they are only counted.
const MAX_WARNINGS: usize = 100;

/// Claims the input when its head holds a socket-table header, or when it starts with rows
/// of one.
pub fn sniff(head: &[u8]) -> Option<bool> {
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = text.lines().collect();
    if head.len() >= super::HEAD_LEN && lines.len() > 1 {
        lines.pop(); // probably cut short
    }
    let mut seen = 0;
    let mut rows = 0;
    let mut first_is_row = None;
    for line in lines.iter().map(|l| l.trim_end()).filter(|l| !l.is_empty()) {
        if header(line).is_some() {
            return Some(true);
        }
        if command(line).is_some() {
            continue;
        }
        let is_row = matches!(row(line, None), Row::Tcp(..) | Row::Other);
        first_is_row.get_or_insert(is_row);
        rows += usize::from(is_row);
        seen += 1;
        if seen == 10 {
            break;
        }
    }
    Some(first_is_row == Some(true) && rows * 2 >= seen)
}

/// Reads every TCP row of the input.
pub fn parse(
    input: Box<dyn BufRead + Send>,
    source: &str,
    _opts: &Options,
) -> Result<Snapshot, ParseError> {
    let mut r = Reader::new(source);
    let mut input = input;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|error| ParseError::Io {
                source_name: source.to_string(),
                error,
            })?;
        if n == 0 {
            break;
        }
        r.line(&String::from_utf8_lossy(&buf));
    }
    r.finish()
}

/// What a header line announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    /// `ss` rows; `state` is false when the State column is missing.
    Ss { state: bool },
    /// `netstat` rows (Linux, BSD, Windows).
    Netstat,
    /// `/proc/net/tcp{,6}` rows.
    Proc,
    /// A section of non-TCP sockets (`Active UNIX domain sockets`): rows are skipped quietly.
    Skip,
}

fn header(line: &str) -> Option<Table> {
    let t = line.trim_start();
    if t.starts_with("Active Internet connections") || t.starts_with("Active Connections") {
        return Some(Table::Netstat);
    }
    if t.starts_with("Active ") && t.contains("sockets") || t.starts_with("Active Bluetooth") {
        return Some(Table::Skip);
    }
    if t.starts_with("Proto ") {
        return Some(if t.contains("RefCnt") {
            Table::Skip
        } else {
            Table::Netstat
        });
    }
    if t.starts_with("Netid ") {
        return Some(Table::Ss {
            state: t.contains("State"),
        });
    }
    if t.starts_with("State ") && t.contains("Recv-Q") {
        return Some(Table::Ss { state: true });
    }
    if t.starts_with("Recv-Q ") && t.contains("Local") {
        return Some(Table::Ss { state: false });
    }
    procnet::is_header(t).then_some(Table::Proc)
}

/// A command line copied with the output (`$ ss -tn state close-wait`); returns the state a
/// single `state X` filter selects, if any.
fn command(line: &str) -> Option<Option<TcpState>> {
    let t = line.trim_start();
    let t = ["$ ", "# ", "> "]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .unwrap_or(t)
        .trim_start();
    let words: Vec<&str> = t.split_whitespace().collect();
    let prog = words.first()?.rsplit('/').next()?;
    if !matches!(prog, "ss" | "netstat" | "cat" | "sudo") {
        return None;
    }
    let mut filters = words
        .windows(2)
        .filter(|w| w[0] == "state")
        .map(|w| tcp_state(w[1]));
    let one = filters.next().flatten();
    Some(if filters.next().is_some() { None } else { one })
}

/// One line, classified.
enum Row {
    /// A TCP socket, and what was lost reading its endpoints.
    Tcp(Socket, Vec<Lossy>),
    /// A row of some other protocol (udp, unix, raw …): skipped.
    Other,
    /// Looks like a TCP row but is not one.
    Bad(String),
    /// Not a row (blank, prose, an unknown table).
    Blank,
}

const OTHER_PROTOCOLS: &[&str] = &[
    "udp", "udp4", "udp6", "udp46", "udpl", "udpl6", "raw", "raw6", "icmp", "icmp6", "unix",
    "u_str", "u_dgr", "u_seq", "nl", "p_raw", "p_dgr", "mptcp", "sctp", "tipc", "v_str", "v_dgr",
    "xdp", "dccp",
];

/// Reads `line` as a row of any known table. `no_state` is the state of `ss` rows that lack
/// the State column (`None`: not an `ss` table without one, or the state is not known).
fn row(line: &str, no_state: Option<TcpState>) -> Row {
    if procnet::looks_like_row(line) {
        return match procnet::row(line) {
            Ok(s) => Row::Tcp(s, Vec::new()),
            Err(e) => Row::Bad(e),
        };
    }
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let Some(&first) = tokens.first() else {
        return Row::Blank;
    };
    let proto = first.to_ascii_lowercase();
    let family = match proto.as_str() {
        "tcp" | "tcp4" => Some(Family::V4),
        "tcp6" | "tcp46" => Some(Family::V6),
        _ => None,
    };
    if let Some(family) = family {
        let rest = &tokens[1..];
        // `ss -a` puts Netid before the state; netstat puts the queues after the protocol.
        if rest.first().is_some_and(|t| tcp_state(t).is_some()) {
            return ss_row(rest, family, None);
        }
        return netstat_row(rest, family);
    }
    if OTHER_PROTOCOLS.contains(&proto.as_str()) {
        return Row::Other;
    }
    if tcp_state(first).is_some() && tokens.len() >= 5 {
        return ss_row(&tokens, Family::V4, None);
    }
    if tokens.len() >= 4 && is_number(tokens[0]) && is_number(tokens[1]) {
        return ss_row(
            &tokens,
            Family::V4,
            Some(no_state.unwrap_or(TcpState::Unknown)),
        );
    }
    Row::Blank
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn queue(s: &str, what: &str) -> Result<u64, String> {
    s.parse()
        .map_err(|_| format!("{what} `{s}` is not a byte count"))
}

fn endpoints(local: &str, remote: &str, family: Family) -> Result<(Parsed, Parsed), String> {
    let one = |t: &str, what: &str| {
        endpoint::endpoint(t, family).ok_or_else(|| format!("{what} `{t}` is not host:port"))
    };
    Ok((one(local, "local address")?, one(remote, "peer address")?))
}

/// `[STATE] RECV-Q SEND-Q LOCAL PEER [users:((…))] …`; `state` given when the column is
/// missing.
fn ss_row(tokens: &[&str], family: Family, state: Option<TcpState>) -> Row {
    let (state, rest) = match state {
        Some(s) => (s, tokens),
        None => match tokens.split_first() {
            Some((s, rest)) => (tcp_state(s).unwrap_or(TcpState::Unknown), rest),
            None => return Row::Blank,
        },
    };
    let [recv, send, local, peer, extra @ ..] = rest else {
        return Row::Bad("expected Recv-Q, Send-Q, local and peer address".into());
    };
    let result = (|| {
        let recv_q = queue(recv, "Recv-Q")?;
        let send_q = queue(send, "Send-Q")?;
        let (l, r) = endpoints(local, peer, family)?;
        let (pid, process) = ss_process(&extra.join(" "));
        Ok(tcp_row(state, l, r, (recv_q, send_q), pid, process))
    })();
    result.unwrap_or_else(Row::Bad)
}

/// A TCP row from its parsed fields; the lossy notes of both ends travel with it.
fn tcp_row(
    state: TcpState,
    l: Parsed,
    r: Parsed,
    (recv_q, send_q): (u64, u64),
    pid: Option<u32>,
    process: Option<String>,
) -> Row {
    let lossy = l.lossy.into_iter().chain(r.lossy).collect();
    Row::Tcp(
        Socket {
            state,
            local: l.endpoint,
            remote: r.endpoint,
            recv_q,
            send_q,
            pid,
            process,
        },
        lossy,
    )
}

/// The first process of `users:(("name",pid=123,fd=4),…)`.
fn ss_process(extra: &str) -> (Option<u32>, Option<String>) {
    let Some(i) = extra.find("users:((") else {
        return (None, None);
    };
    let rest = &extra[i + 8..];
    let name = rest
        .strip_prefix('"')
        .and_then(|r| r.find("\",").map(|end| r[..end].to_string()));
    let pid = rest.find("pid=").and_then(|p| {
        let digits: String = rest[p + 4..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    });
    (pid, name)
}

/// After the protocol: `RECV-Q SEND-Q LOCAL FOREIGN STATE [User Inode] [PID/Program]` (Linux,
/// BSD) or `LOCAL FOREIGN STATE [PID]` (Windows).
fn netstat_row(tokens: &[&str], family: Family) -> Row {
    let with_queues = tokens.len() >= 2 && is_number(tokens[0]) && is_number(tokens[1]);
    let (recv, send, rest) = if with_queues {
        (Some(tokens[0]), Some(tokens[1]), &tokens[2..])
    } else {
        (None, None, tokens)
    };
    let [local, foreign, after @ ..] = rest else {
        return Row::Bad("expected Recv-Q, Send-Q, local and foreign address".into());
    };
    let result = (|| {
        let recv_q = recv.map_or(Ok(0), |r| queue(r, "Recv-Q"))?;
        let send_q = send.map_or(Ok(0), |s| queue(s, "Send-Q"))?;
        let (l, r) = endpoints(local, foreign, family)?;
        let (state, after) = match after.split_first() {
            Some((s, more)) => match tcp_state(s) {
                Some(st) => (st, more),
                None => return Err(format!("`{s}` is not a TCP state")),
            },
            None => (TcpState::Unknown, after),
        };
        let (mut pid, mut process) = (None, None);
        for t in after {
            if let Some((p, name)) = t.split_once('/') {
                if is_number(p) {
                    pid = p.parse().ok();
                    process = (!name.is_empty()).then(|| name.to_string());
                    break;
                }
            } else if !with_queues && is_number(t) {
                pid = t.parse().ok(); // Windows: a bare PID
            }
        }
        Ok(tcp_row(state, l, r, (recv_q, send_q), pid, process))
    })();
    result.unwrap_or_else(Row::Bad)
}

/// The parser's state across lines.
struct Reader {
    snap: Snapshot,
    lineno: u64,
    table: Option<Table>,
    /// The state of `ss` rows without a State column, from a copied command line.
    state_hint: Option<TcpState>,
    warned_no_state: bool,
    seen_table: bool,
    dropped_warnings: u64,
    host_names: (u64, Option<String>),
    services: Vec<(String, u64)>,
}

impl Reader {
    fn new(source: &str) -> Reader {
        Reader {
            snap: Snapshot::new(source, Format::Sockets),
            lineno: 0,
            table: None,
            state_hint: None,
            warned_no_state: false,
            seen_table: false,
            dropped_warnings: 0,
            host_names: (0, None),
            services: Vec::new(),
        }
    }

    fn warn(&mut self, line: Option<u64>, message: String) {
        if self.snap.warnings.len() < MAX_WARNINGS {
            self.snap.warnings.push(Warning { line, message });
        } else {
            self.dropped_warnings += 1;
        }
    }

    fn line(&mut self, raw: &str) {
        self.lineno += 1;
        let line = raw.trim_end();
        if line.trim_start().is_empty() {
            return;
        }
        if let Some(t) = header(line) {
            self.table = Some(t);
            self.seen_table = true;
            return;
        }
        if let Some(hint) = command(line) {
            self.state_hint = hint;
            self.table = None;
            return;
        }
        // Only `ss` output without a State column has rows that start with two numbers.
        let no_state = match self.table {
            Some(Table::Ss { state: false }) | None => self.state_hint,
            _ => None,
        };
        match row(line, no_state) {
            Row::Tcp(socket, lossy) => {
                self.seen_table = true;
                let mut words = line.split_whitespace();
                let no_state_column =
                    words.next().is_some_and(is_number) && words.next().is_some_and(is_number);
                if no_state_column && self.state_hint.is_none() && !self.warned_no_state {
                    self.warned_no_state = true;
                    self.warn(
                        Some(self.lineno),
                        "the table has no State column (`ss … state X` leaves it out) and no copied command line says which state was selected; these sockets' states are unknown".into(),
                    );
                }
                self.note_lossy(lossy);
                self.snap.sockets.push(socket);
            }
            Row::Other => self.seen_table = true,
            Row::Bad(why) if self.table != Some(Table::Skip) => self.warn(
                Some(self.lineno),
                format!("skipped a malformed socket row: {why}"),
            ),
            Row::Bad(_) => {}
            Row::Blank => {
                if self.seen_table && self.table != Some(Table::Skip) {
                    let shown: String = line.trim().chars().take(60).collect();
                    self.warn(
                        Some(self.lineno),
                        format!("skipped a line that is not a socket row: `{shown}`"),
                    );
                }
            }
        }
    }

    fn note_lossy(&mut self, lossy: Vec<Lossy>) {
        for l in lossy {
            match l {
                Lossy::HostName(h) => {
                    self.host_names.0 += 1;
                    self.host_names.1.get_or_insert(h);
                }
                Lossy::Service(s) => match self.services.iter_mut().find(|(n, _)| *n == s) {
                    Some((_, c)) => *c += 1,
                    None => self.services.push((s, 1)),
                },
            }
        }
    }

    fn finish(mut self) -> Result<Snapshot, ParseError> {
        if !self.seen_table {
            return Err(ParseError::NotEvidence {
                source_name: self.snap.source.clone(),
                found: "no socket table rows or headers".into(),
                expected: super::EXPECTED,
            });
        }
        if let (n, Some(example)) = self.host_names.clone() {
            self.snap.warnings.push(Warning {
                line: None,
                message: format!(
                    "{n} addresses were host names (e.g. `{example}`), so their IP addresses are unknown; numeric output (`ss -n`, `netstat -n`) avoids this"
                ),
            });
        }
        if !self.services.is_empty() {
            let list: Vec<String> = self
                .services
                .iter()
                .take(5)
                .map(|(s, c)| format!("`{s}` ({c})"))
                .collect();
            self.snap.warnings.push(Warning {
                line: None,
                message: format!(
                    "unknown service names {}{}: their ports are recorded as 0; numeric output (`ss -n`, `netstat -n`) avoids this",
                    list.join(", "),
                    if self.services.len() > 5 { ", …" } else { "" }
                ),
            });
        }
        if self.dropped_warnings > 0 {
            self.snap.warnings.push(Warning {
                line: None,
                message: format!("{} more lines were skipped", self.dropped_warnings),
            });
        }
        Ok(self.snap)
    }
}

#[cfg(test)]
mod tests;
