//! A small blocking HTTP client for pprof endpoints: connect, read and overall deadlines on
//! every request, a few retries for a process that is restarting or a proxy that is briefly
//! unavailable, and errors that say what to check.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::http::StatusCode;

/// How requests are made.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Deadline for establishing the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Deadline for each read from the connection: how long the server may stay silent.
    pub read_timeout: Duration,
    /// Deadline for a whole request, from connecting to the last byte of the body.
    pub timeout: Duration,
    /// Further attempts after a refused or reset connection or a 502/503/504 reply.
    pub retries: u32,
    /// Extra request headers (`Authorization`, …), as (name, value).
    pub headers: Vec<(String, String)>,
    /// Bodies longer than this are cut here (and flagged).
    pub max_bytes: u64,
    /// Accept any TLS certificate (self-signed, wrong name).
    pub insecure: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
            retries: 2,
            headers: Vec::new(),
            max_bytes: 1 << 30,
            insecure: false,
        }
    }
}

/// A successful (2xx) reply.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body, at most [`HttpOptions::max_bytes`] of it.
    pub body: Vec<u8>,
    /// The body was longer than [`HttpOptions::max_bytes`] and was cut.
    pub over_limit: bool,
    /// How many attempts it took.
    pub attempts: u32,
    /// Seconds from the first attempt to the last byte.
    pub seconds: f64,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Nothing listens on the port.
    #[error(
        "{url}: connection refused (is the process running, and is its pprof server listening on that port?)"
    )]
    Refused {
        /// The URL requested.
        url: String,
    },
    /// A deadline passed.
    #[error(
        "{url}: timed out after {seconds:.1} s ({phase}); the process may be too busy to answer, or something between drops the traffic (raise --timeout for very large dumps)"
    )]
    Timeout {
        /// The URL requested.
        url: String,
        /// Which deadline.
        phase: String,
        /// Seconds since the request began.
        seconds: f64,
    },
    /// The host name does not resolve.
    #[error("{url}: host not found")]
    HostNotFound {
        /// The URL requested.
        url: String,
    },
    /// TLS failed.
    #[error(
        "{url}: TLS error: {message} (is it an http:// server? for a self-signed certificate, add --insecure)"
    )]
    Tls {
        /// The URL requested.
        url: String,
        /// What TLS said.
        message: String,
    },
    /// 404 for a profile the Go runtime does not serve (`Unknown profile`).
    #[error(
        "{url}: the server does not serve this profile (404 \"Unknown profile\"; older Go, or an experiment not enabled)"
    )]
    UnknownProfile {
        /// The URL requested.
        url: String,
    },
    /// 404 otherwise.
    #[error(
        "{url}: 404 not found: is net/http/pprof mounted on this server, at this path? (its handlers live under /debug/pprof/ of the mux they are registered on)"
    )]
    NotFound {
        /// The URL requested.
        url: String,
    },
    /// 401 or 403.
    #[error(
        "{url}: HTTP {status}: the server wants credentials; pass them with --header 'Authorization: …'"
    )]
    Denied {
        /// The URL requested.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// Any other non-2xx reply.
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
        /// The first line of the body.
        body: String,
    },
    /// Anything else: a reset connection, an HTTP protocol error, a bad header.
    #[error("{url}: {message}")]
    Other {
        /// The URL requested.
        url: String,
        /// What went wrong.
        message: String,
        /// Worth another attempt.
        transient: bool,
    },
}

impl FetchError {
    /// The HTTP status, when the server replied.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::UnknownProfile { .. } | FetchError::NotFound { .. } => Some(404),
            FetchError::Denied { status, .. } | FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server answered, but not with the profile: the profile is absent or forbidden,
    /// the process itself is reachable.
    pub fn server_replied(&self) -> bool {
        self.status().is_some()
    }

    fn transient(&self) -> bool {
        match self {
            FetchError::Refused { .. } => true,
            FetchError::Status { status, .. } => matches!(status, 502..=504),
            FetchError::Other { transient, .. } => *transient,
            _ => false,
        }
    }
}

/// Makes requests with [`HttpOptions`].
pub struct Client {
    agent: Agent,
    opts: HttpOptions,
}

impl Client {
    /// A client; fails when a header is malformed.
    pub fn new(opts: HttpOptions) -> Result<Client, String> {
        for (name, value) in &opts.headers {
            ureq::http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("--header: `{name}` is not a valid header name"))?;
            ureq::http::HeaderValue::from_str(value)
                .map_err(|_| format!("--header {name}: the value is not a valid header value"))?;
        }
        let tls = ureq::tls::TlsConfig::builder()
            .disable_verification(opts.insecure)
            .build();
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(opts.connect_timeout))
            .timeout_per_read(Some(opts.read_timeout))
            .timeout_global(Some(opts.timeout))
            .max_redirects(5)
            .tls_config(tls)
            .user_agent(concat!("hangdoc/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Client { agent, opts })
    }

    /// The options it was made with.
    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// GETs `url`: a 2xx reply, or the error of the last attempt. Retries only what may
    /// pass (refused or reset connections, 502–504), with a short backoff, and never past
    /// the request's overall deadline.
    pub fn get(&self, url: &str) -> Result<Reply, FetchError> {
        let start = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.get_once(url, start) {
                Ok(mut r) => {
                    r.attempts = attempt;
                    return Ok(r);
                }
                Err(e) => {
                    let backoff = Duration::from_millis(250 << (attempt - 1).min(4));
                    if !e.transient()
                        || attempt > self.opts.retries
                        || start.elapsed() + backoff >= self.opts.timeout
                    {
                        return Err(e);
                    }
                    std::thread::sleep(backoff);
                }
            }
        }
    }

    fn get_once(&self, url: &str, start: Instant) -> Result<Reply, FetchError> {
        let mut req = self.agent.get(url);
        for (name, value) in &self.opts.headers {
            req = req.header(name.as_str(), value.as_str());
        }
        let resp = req.call().map_err(|e| classify(url, e, start))?;
        let status = resp.status();
        let mut reader = resp.into_body().into_with_config().reader();
        let mut body = Vec::new();
        let limit = if status.is_success() {
            self.opts.max_bytes
        } else {
            64 * 1024
        };
        let read = (&mut reader).take(limit).read_to_end(&mut body);
        if let Err(e) = read {
            return Err(classify_io(url, e, start, body.len()));
        }
        if !status.is_success() {
            return Err(status_error(url, status, &body));
        }
        // One more byte tells a body of exactly the limit from a longer one.
        let over_limit = body.len() as u64 == limit && reader.read(&mut [0u8]).is_ok_and(|n| n > 0);
        Ok(Reply {
            status: status.as_u16(),
            body,
            over_limit,
            attempts: 1,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

fn status_error(url: &str, status: StatusCode, body: &[u8]) -> FetchError {
    let text = String::from_utf8_lossy(body);
    let first = text.trim_start().lines().next().unwrap_or("").trim();
    let url = url.to_string();
    match status.as_u16() {
        404 if first.starts_with("Unknown profile") => FetchError::UnknownProfile { url },
        404 => FetchError::NotFound { url },
        s @ (401 | 403) => FetchError::Denied { url, status: s },
        s => FetchError::Status {
            url,
            status: s,
            body: if first.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("no reason given")
                    .to_string()
            } else {
                first.chars().take(200).collect()
            },
        },
    }
}

fn classify(url: &str, e: ureq::Error, start: Instant) -> FetchError {
    let url_s = url.to_string();
    match e {
        ureq::Error::Io(io) => classify_io(url, io, start, 0),
        ureq::Error::Timeout(t) => FetchError::Timeout {
            url: url_s,
            phase: timeout_phase(t),
            seconds: start.elapsed().as_secs_f64(),
        },
        ureq::Error::HostNotFound => FetchError::HostNotFound { url: url_s },
        ureq::Error::Tls(m) => FetchError::Tls {
            url: url_s,
            message: m.to_string(),
        },
        ureq::Error::Rustls(r) => FetchError::Tls {
            url: url_s,
            message: r.to_string(),
        },
        ureq::Error::Pem(p) => FetchError::Tls {
            url: url_s,
            message: p.to_string(),
        },
        ureq::Error::ConnectionFailed => FetchError::Other {
            url: url_s,
            message: "could not connect".into(),
            transient: true,
        },
        ureq::Error::Protocol(p) => FetchError::Other {
            url: url_s,
            message: format!("the reply is not valid HTTP ({p}); is this an HTTP server?"),
            transient: false,
        },
        other => FetchError::Other {
            url: url_s,
            message: other.to_string(),
            transient: false,
        },
    }
}

fn classify_io(url: &str, e: io::Error, start: Instant, got: usize) -> FetchError {
    // ureq wraps its own errors (timeouts while reading the body) in io::Error.
    if let Some(ureq::Error::Timeout(t)) = e.get_ref().and_then(|r| r.downcast_ref::<ureq::Error>())
    {
        return FetchError::Timeout {
            url: url.to_string(),
            phase: with_bytes(timeout_phase(*t), got),
            seconds: start.elapsed().as_secs_f64(),
        };
    }
    let url = url.to_string();
    match e.kind() {
        // TLS failures reach here as InvalidData wrapping the TLS library's error.
        io::ErrorKind::InvalidData
            if url
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://")) =>
        {
            FetchError::Tls {
                url,
                message: e.to_string(),
            }
        }
        io::ErrorKind::ConnectionRefused => FetchError::Refused { url },
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::Timeout {
            url,
            phase: with_bytes("waiting for data".into(), got),
            seconds: start.elapsed().as_secs_f64(),
        },
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe => FetchError::Other {
            message: if got > 0 {
                format!(
                    "the connection closed after {got} bytes of the body ({e}); did the process exit?"
                )
            } else {
                format!("the connection closed before a reply ({e}); did the process exit?")
            },
            url,
            transient: got == 0,
        },
        _ => FetchError::Other {
            message: e.to_string(),
            url,
            transient: false,
        },
    }
}

fn with_bytes(phase: String, got: usize) -> String {
    if got > 0 {
        format!("{phase}, after {got} bytes of the body")
    } else {
        phase
    }
}

fn timeout_phase(t: ureq::Timeout) -> String {
    use ureq::Timeout as T;
    match t {
        T::Connect => "connecting",
        T::Resolve => "resolving the host",
        T::PerRead => "the server stopped sending",
        T::Global | T::PerCall => "the whole request",
        T::RecvResponse => "waiting for the reply",
        T::RecvBody => "reading the body",
        _ => "sending the request",
    }
    .to_string()
}
