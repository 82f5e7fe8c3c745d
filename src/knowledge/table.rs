//! The knowledge table. Patterns use `{*}` as a wildcard for any run of characters; vendored
//! copies (`…/vendor/github.com/…`) match the same entries.

use super::{Entry, Role};

const SQL_PORTS: &[u16] = &[5432, 3306, 1433, 26257, 9000];

const REDIGO_ADVICE: &str = "Close every connection you Get (`defer conn.Close()` right after Get), and never Get a second connection while holding one: pass the held connection down instead. With `Wait: true` and no deadline a drained pool blocks forever: use GetContext with a timeout.";

const PGX_ADVICE: &str = "Release every pgxpool connection (`defer conn.Release()`), close Rows on every path, and never Acquire a second connection while holding one. Acquire with a context that has a deadline.";

/// A goroutine using a resource lent by a pool (nothing to advise: it is not the cause).
const fn uses(
    function: &'static str,
    library: &'static str,
    resource: &'static str,
    ports: &'static [u16],
) -> Entry {
    Entry {
        function,
        role: Role::PoolUse,
        library,
        resource,
        ports,
        advice: "",
    }
}

/// A normal idle wait (nothing to advise, no ports).
const fn idle(function: &'static str, library: &'static str, resource: &'static str) -> Entry {
    Entry {
        function,
        role: Role::Idle,
        library,
        resource,
        ports: &[],
        advice: "",
    }
}

/// Every known pattern, most specific first.
pub static ENTRIES: &[Entry] = &[
    // ---- connection pools and limits: waiting to acquire ----
    Entry {
        function: "database/sql.(*DB).conn",
        role: Role::PoolAcquire,
        library: "database/sql",
        resource: "database/sql connection pool",
        ports: SQL_PORTS,
        advice: "Every *sql.Rows must be closed on every path: `defer rows.Close()` right after the error check of Query, and check rows.Err(); a Tx must end in Commit or Rollback on every path (`defer tx.Rollback()`). Never query through the *sql.DB while holding a Tx or Conn of the same pool. Pass a context with a deadline (QueryContext) so waiters give up, and watch db.Stats().WaitCount / InUse.",
    },
    Entry {
        function: "github.com/gomodule/redigo/redis.(*Pool).get",
        role: Role::PoolAcquire,
        library: "redigo",
        resource: "redigo connection pool",
        ports: &[6379],
        advice: REDIGO_ADVICE,
    },
    Entry {
        function: "github.com/gomodule/redigo/redis.(*Pool).waitVacantConn",
        role: Role::PoolAcquire,
        library: "redigo",
        resource: "redigo connection pool",
        ports: &[6379],
        advice: REDIGO_ADVICE,
    },
    Entry {
        function: "github.com/garyburd/redigo/redis.(*Pool).get",
        role: Role::PoolAcquire,
        library: "redigo",
        resource: "redigo connection pool",
        ports: &[6379],
        advice: "Close every connection you Get (`defer conn.Close()`), never Get a second connection while holding one, and bound the wait (GetContext with a timeout in current redigo).",
    },
    Entry {
        function: "github.com/{*}redis{*}/internal/pool.(*ConnPool).waitTurn",
        role: Role::PoolAcquire,
        library: "go-redis",
        resource: "go-redis connection pool",
        ports: &[6379],
        advice: "A go-redis pool waits PoolTimeout for a free connection: something holds connections (a long Pipeline, a PubSub or a Conn() that is never closed, or nested calls from inside a Watch/TxPipelined callback). Close what you take and keep PoolTimeout and context deadlines set.",
    },
    Entry {
        function: "github.com/jackc/puddle{*}Acquire{*}",
        role: Role::PoolAcquire,
        library: "pgx (pgxpool)",
        resource: "pgx connection pool",
        ports: &[5432],
        advice: PGX_ADVICE,
    },
    Entry {
        function: "github.com/jackc/pgx/v{*}/pgxpool.(*Pool).Acquire",
        role: Role::PoolAcquire,
        library: "pgx (pgxpool)",
        resource: "pgx connection pool",
        ports: &[5432],
        advice: PGX_ADVICE,
    },
    Entry {
        function: "net/http.(*Transport).getConn",
        role: Role::PoolAcquire,
        library: "net/http",
        resource: "HTTP client connections (Transport.MaxConnsPerHost)",
        ports: &[80, 443],
        advice: "With Transport.MaxConnsPerHost set, every response body must be read to the end and closed, or its connection is never returned. Set http.Client.Timeout (or a request context deadline) so callers give up.",
    },
    Entry {
        function: "golang.org/x/sync/semaphore.(*Weighted).Acquire",
        role: Role::PoolAcquire,
        library: "golang.org/x/sync/semaphore",
        resource: "weighted semaphore",
        ports: &[],
        advice: "Release what you Acquire on every path (`defer sem.Release(n)` right after a successful Acquire), and acquire with a context that has a deadline.",
    },
    Entry {
        function: "golang.org/x/sync/errgroup.(*Group).Go",
        role: Role::PoolAcquire,
        library: "golang.org/x/sync/errgroup",
        resource: "errgroup concurrency limit (SetLimit)",
        ports: &[],
        advice: "Group.Go blocks while SetLimit goroutines are running: the running ones are stuck or never return. Make the tasks honour the group's context, or use TryGo.",
    },
    // ---- holding a pooled resource: using a connection ----
    uses(
        "database/sql.(*DB).queryDC{*}",
        "database/sql",
        "database/sql connection pool",
        SQL_PORTS,
    ),
    uses(
        "database/sql.(*DB).execDC{*}",
        "database/sql",
        "database/sql connection pool",
        SQL_PORTS,
    ),
    uses(
        "database/sql.(*Rows).Next{*}",
        "database/sql",
        "database/sql connection pool",
        SQL_PORTS,
    ),
    uses(
        "database/sql.(*Tx).{*}",
        "database/sql",
        "database/sql connection pool",
        SQL_PORTS,
    ),
    uses(
        "database/sql.(*Conn).{*}",
        "database/sql",
        "database/sql connection pool",
        SQL_PORTS,
    ),
    uses(
        "github.com/lib/pq.{*}",
        "lib/pq",
        "database/sql connection pool",
        &[5432],
    ),
    uses(
        "github.com/jackc/pgx/v{*}/pgconn.{*}",
        "pgx",
        "pgx connection pool",
        &[5432],
    ),
    uses(
        "github.com/go-sql-driver/mysql.{*}",
        "go-sql-driver/mysql",
        "database/sql connection pool",
        &[3306],
    ),
    uses(
        "github.com/gomodule/redigo/redis.(*conn).{*}",
        "redigo",
        "redigo connection pool",
        &[6379],
    ),
    uses(
        "github.com/gomodule/redigo/redis.(*activeConn).{*}",
        "redigo",
        "redigo connection pool",
        &[6379],
    ),
    uses(
        "github.com/{*}redis{*}.(*baseClient).{*}",
        "go-redis",
        "go-redis connection pool",
        &[6379],
    ),
    // ---- hand-offs to a library's background goroutine ----
    Entry {
        function: "github.com/rabbitmq/amqp091-go.(*Connection).shutdown{*}",
        role: Role::AsyncHandoff,
        library: "amqp091-go",
        resource: "NotifyClose / NotifyBlocked channel",
        ports: &[5672],
        advice: "The client sends connection errors on the channels registered with NotifyClose/NotifyBlocked and blocks until someone receives. Register buffered channels (capacity 1) and keep a goroutine draining them until they are closed; never stop reading while the connection lives.",
    },
    Entry {
        function: "github.com/streadway/amqp.(*Connection).shutdown{*}",
        role: Role::AsyncHandoff,
        library: "streadway/amqp",
        resource: "NotifyClose / NotifyBlocked channel",
        ports: &[5672],
        advice: "The client sends connection errors on the channels registered with NotifyClose/NotifyBlocked and blocks until someone receives. Register buffered channels and keep draining them until they are closed.",
    },
    Entry {
        function: "google.golang.org/grpc/internal/transport.(*writeQuota).get",
        role: Role::AsyncHandoff,
        library: "gRPC",
        resource: "HTTP/2 flow-control window",
        ports: &[],
        advice: "gRPC writes wait for the peer's flow-control window: the peer stopped reading this stream or connection. Give streams deadlines, make the receiving side keep reading, and avoid holding locks across Send.",
    },
    // ---- normal idle waits ----
    idle(
        "net/http.(*conn).serve",
        "net/http",
        "HTTP server connection",
    ),
    idle(
        "net/http.(*persistConn).readLoop",
        "net/http",
        "HTTP client keep-alive connection",
    ),
    idle(
        "net/http.(*persistConn).writeLoop",
        "net/http",
        "HTTP client keep-alive connection",
    ),
    idle(
        "net/http.(*connReader).backgroundRead",
        "net/http",
        "HTTP server connection",
    ),
    idle("net/http.(*Server).Serve", "net/http", "listener"),
    idle("net.(*TCPListener).Accept", "net", "listener"),
    idle("net.(*UnixListener).Accept", "net", "listener"),
    idle(
        "database/sql.(*DB).connectionOpener",
        "database/sql",
        "pool opener",
    ),
    idle(
        "database/sql.(*DB).connectionCleaner",
        "database/sql",
        "pool cleaner",
    ),
    idle(
        "database/sql.(*DB).connectionResetter",
        "database/sql",
        "pool resetter",
    ),
    idle("os/signal.signal_recv", "os/signal", "signals"),
    idle("os/signal.loop", "os/signal", "signals"),
    idle(
        "golang.org/x/net/http2.(*serverConn).serve",
        "http2",
        "HTTP/2 server connection",
    ),
    idle(
        "golang.org/x/net/http2.(*serverConn).readFrames",
        "http2",
        "HTTP/2 server connection",
    ),
    idle(
        "net/http.(*http2serverConn).serve",
        "net/http",
        "HTTP/2 server connection",
    ),
    idle(
        "net/http.(*http2serverConn).readFrames",
        "net/http",
        "HTTP/2 server connection",
    ),
    idle(
        "net/http.(*http2ClientConn).readLoop",
        "net/http",
        "HTTP/2 client connection",
    ),
    idle(
        "google.golang.org/grpc/internal/transport.(*http2Client).reader",
        "gRPC",
        "gRPC connection",
    ),
    idle(
        "google.golang.org/grpc/internal/transport.(*controlBuffer).get",
        "gRPC",
        "gRPC connection",
    ),
    idle(
        "google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run",
        "gRPC",
        "gRPC callbacks",
    ),
    idle(
        "github.com/gomodule/redigo/redis.(*Pool).startCleanerLocked{*}",
        "redigo",
        "pool cleaner",
    ),
    idle(
        "github.com/jackc/pgx/v{*}/pgxpool.(*Pool).backgroundHealthCheck",
        "pgx",
        "pool health check",
    ),
    idle(
        "github.com/{*}redis{*}/internal/pool.(*ConnPool).reaper",
        "go-redis",
        "pool reaper",
    ),
    // ---- client calls that need deadlines ----
    Entry {
        function: "net/http.(*persistConn).roundTrip",
        role: Role::ClientCall,
        library: "net/http",
        resource: "HTTP client request",
        ports: &[],
        advice: "An http.Client without Timeout (and a request without a context deadline) waits for a response forever. Set http.Client.Timeout, or use NewRequestWithContext with a deadline; set Transport.ResponseHeaderTimeout too.",
    },
    Entry {
        function: "net.(*sysDialer).{*}",
        role: Role::ClientCall,
        library: "net",
        resource: "TCP dial",
        ports: &[],
        advice: "A dial without a timeout waits for the kernel's SYN retries (minutes). Use net.Dialer{Timeout: …} or DialContext with a deadline.",
    },
];
