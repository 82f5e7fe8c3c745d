//! Rows of a socket table (`ss`, `netstat`, `/proc/net/tcp`).

use serde::Serialize;
use std::net::IpAddr;

/// TCP connection states as the kernel names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TcpState {
    /// ESTABLISHED / ESTAB.
    Established,
    /// SYN_SENT / SYN-SENT.
    SynSent,
    /// SYN_RECV / SYN-RECV.
    SynRecv,
    /// FIN_WAIT1 / FIN-WAIT-1.
    FinWait1,
    /// FIN_WAIT2 / FIN-WAIT-2.
    FinWait2,
    /// TIME_WAIT / TIME-WAIT.
    TimeWait,
    /// CLOSE / UNCONN.
    Close,
    /// CLOSE_WAIT / CLOSE-WAIT: the peer closed, this process has not.
    CloseWait,
    /// LAST_ACK / LAST-ACK.
    LastAck,
    /// LISTEN.
    Listen,
    /// CLOSING.
    Closing,
    /// Anything else.
    Unknown,
}

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Endpoint {
    /// The address; `None` for a wildcard (`*`, `0.0.0.0`, `::`).
    pub ip: Option<IpAddr>,
    /// The port (service names such as `synapse-nhttp` are mapped back to numbers); 0 = `*`.
    pub port: u16,
}

/// One socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Socket {
    /// The state.
    pub state: TcpState,
    /// Local end.
    pub local: Endpoint,
    /// Remote end.
    pub remote: Endpoint,
    /// Bytes received but not read by the process (Recv-Q); for LISTEN, the accept backlog.
    pub recv_q: u64,
    /// Bytes sent but not acknowledged (Send-Q).
    pub send_q: u64,
    /// The owning process id, when the table has it (`ss -p`, `netstat -p`).
    pub pid: Option<u32>,
    /// The owning process name, when the table has it.
    pub process: Option<String>,
}
