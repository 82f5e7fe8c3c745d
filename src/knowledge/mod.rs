//! What known libraries look like in a stack, as data: one reviewed table ([`table::ENTRIES`])
//! that detectors consult instead of growing `if` chains.
//!
//! Each entry names a function (exactly, or a prefix ending in `*`), the role a goroutine in
//! that function plays, and the advice a senior engineer would give when it is the cause.

mod table;

pub use table::ENTRIES;

/// The role a goroutine plays when its stack contains an entry's function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Waiting to take a resource from a bounded pool (connections, semaphore weights, worker
    /// slots). The pool is drained if many wait and nobody visibly uses what it lent.
    PoolAcquire,
    /// Using a resource lent by a pool (a connection in the middle of a query or command).
    PoolUse,
    /// A normal idle wait that says nothing about a hang (an HTTP server waiting for the next
    /// request on a keep-alive connection, a listener in Accept, a transport's read loop).
    Idle,
    /// A client call over the network that hangs forever unless a deadline is set.
    ClientCall,
    /// A producer handing records to a library's background consumer (async loggers, flow
    /// control windows): blocks when the consumer stops.
    AsyncHandoff,
}

/// One pattern of the knowledge table.
#[derive(Debug)]
pub struct Entry {
    /// The function as the runtime prints it; a trailing `*` matches any suffix.
    pub function: &'static str,
    /// What a goroutine in this function is doing.
    pub role: Role,
    /// The library, as users know it.
    pub library: &'static str,
    /// What resource is at stake (`database/sql connection pool`).
    pub resource: &'static str,
    /// The server ports this library's pool connects to by default (for socket evidence).
    pub ports: &'static [u16],
    /// What to do about it.
    pub advice: &'static str,
}

impl Entry {
    /// True when `function` (or its un-vendored form) is matched by this entry.
    pub fn matches(&self, function: &str) -> bool {
        glob(self.function, unvendor(function))
    }
}

/// `…/vendor/github.com/x/y.F` → `github.com/x/y.F`.
pub fn unvendor(function: &str) -> &str {
    let head = &function[..function.find('[').unwrap_or(function.len())];
    match head.rfind("/vendor/") {
        Some(i) => &function[i + 8..],
        None => function.strip_prefix("vendor/").unwrap_or(function),
    }
}

/// Matches `pattern`, in which `{*}` stands for any run of characters, against `s`.
fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split("{*}").collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// The first entry matching `function` with `role`, if any.
pub fn lookup(function: &str, role: Role) -> Option<&'static Entry> {
    ENTRIES
        .iter()
        .find(|e| e.role == role && e.matches(function))
}

/// The first entry matching `function` in any role.
pub fn lookup_any(function: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.matches(function))
}

/// The standard library's top-level package directories.
const STD_ROOTS: &[&str] = &[
    "archive",
    "arena",
    "bufio",
    "bytes",
    "cmp",
    "compress",
    "container",
    "context",
    "crypto",
    "database",
    "debug",
    "embed",
    "encoding",
    "errors",
    "expvar",
    "flag",
    "fmt",
    "go",
    "hash",
    "html",
    "image",
    "index",
    "internal",
    "io",
    "iter",
    "log",
    "maps",
    "math",
    "mime",
    "net",
    "os",
    "path",
    "plugin",
    "reflect",
    "regexp",
    "runtime",
    "slices",
    "sort",
    "strconv",
    "strings",
    "structs",
    "sync",
    "syscall",
    "testing",
    "text",
    "time",
    "unicode",
    "unique",
    "unsafe",
    "vendor",
    "weak",
    "panic",
];

/// True when `dir` is a top-level directory of the standard library (`$GOROOT/src/<dir>`).
pub fn is_std_root(dir: &str) -> bool {
    STD_ROOTS.contains(&dir)
}

/// True for functions of the Go standard library and runtime, which are never where an
/// application bug is fixed. GOPATH-style application packages (`foo/engine`) are not std.
pub fn is_std(function: &str) -> bool {
    let bracket = function.find('[').unwrap_or(function.len());
    let head = &function[..bracket];
    let root_end = head.find(['/', '.']).unwrap_or(head.len());
    let root = &head[..root_end];
    if !STD_ROOTS.contains(&root) {
        return false;
    }
    // `net/http.X` is std; `net.X` too; but `foo/net/x.Y` has another root and is not.
    true
}

/// True for frames that belong to a library in the knowledge table or to the standard
/// library: the frames to skip when looking for the application code to blame.
pub fn is_library(function: &str) -> bool {
    is_std(function) || lookup_any(function).is_some() || is_vendored_library(function)
}

/// True for frames to skip when looking for the application code to blame: library frames
/// ([`is_library`]) and the `main` that `go test` generates (`_testmain.go`), which only runs
/// the tests.
pub fn is_library_frame(frame: &crate::model::Frame) -> bool {
    is_library(&frame.function) || frame.file.ends_with("_testmain.go")
}

/// Well-known third-party module prefixes whose frames are never the place to fix an
/// application's hang (the application's call into them is).
fn is_vendored_library(function: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "github.com/gomodule/redigo/",
        "github.com/garyburd/redigo/",
        "github.com/redis/go-redis/",
        "github.com/go-redis/redis",
        "github.com/jackc/",
        "github.com/lib/pq",
        "github.com/go-sql-driver/mysql",
        "github.com/gin-gonic/gin",
        "github.com/labstack/echo",
        "github.com/gofiber/",
        "github.com/valyala/fasthttp",
        "google.golang.org/grpc",
        "golang.org/x/net/",
        "golang.org/x/sync/",
        "github.com/rabbitmq/amqp091-go",
        "github.com/streadway/amqp",
        "go.uber.org/zap",
        "github.com/sirupsen/logrus",
        "github.com/rs/zerolog",
        "gorm.io/",
        "github.com/jmoiron/sqlx",
    ];
    let f = unvendor(function);
    PREFIXES.iter().any(|p| f.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_and_app_are_told_apart() {
        assert!(is_std("sync.(*Mutex).Lock"));
        assert!(is_std("net/http.(*conn).serve"));
        assert!(is_std("internal/sync.(*Mutex).lockSlow"));
        assert!(!is_std("main.main"));
        assert!(!is_std("main.(*Server).handle"));
        assert!(!is_std("example.com/shop/store.(*Repo).Get"));
        assert!(
            !is_std("foo/engine.(*Client).reader"),
            "GOPATH-style app package"
        );
        assert!(is_std("panic"));
        assert!(is_library("github.com/gomodule/redigo/redis.(*Pool).get"));
        assert!(is_library(
            "foo/vendor/github.com/gomodule/redigo/redis.(*Pool).get"
        ));
    }

    #[test]
    fn table_lookups() {
        assert_eq!(
            lookup("database/sql.(*DB).conn", Role::PoolAcquire)
                .unwrap()
                .library,
            "database/sql"
        );
        assert!(
            lookup(
                "github.com/gomodule/redigo/redis.(*Pool).get",
                Role::PoolAcquire
            )
            .is_some()
        );
        assert!(lookup("net/http.(*conn).serve", Role::PoolAcquire).is_none());
        assert!(
            lookup(
                "foo/vendor/github.com/gomodule/redigo/redis.(*Pool).get",
                Role::PoolAcquire
            )
            .is_some()
        );
        assert!(
            lookup(
                "github.com/redis/go-redis/v9/internal/pool.(*ConnPool).waitTurn",
                Role::PoolAcquire
            )
            .is_some()
        );
        assert!(
            lookup(
                "github.com/jackc/puddle/v2.(*Pool[...]).Acquire",
                Role::PoolAcquire
            )
            .is_some()
        );
    }
}
