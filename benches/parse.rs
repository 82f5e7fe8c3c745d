//! Throughput of the traceback parser on a generated ~30 MB `runtime.Stack`-format dump.
//!
//! The dump is built from a few hand-written blocks in the runtime's format (abridged from
//! real Go 1.26 output), replicated with renumbered ids, varying argument words, wait
//! minutes and labels. `scripts/bench-large.sh` measures a real 1,000,000-goroutine dump.

use std::fmt::Write as _;
use std::io::Cursor;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hangdoc::parse::{Options, traceback};

const BLOCKS: &[(&str, &str)] = &[
    (
        "sync.Mutex.Lock",
        "internal/sync.runtime_SemacquireMutex(@, 0x0?, 0x0?)
\t/usr/local/go/src/runtime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0xc000771900)
\t/usr/local/go/src/internal/sync/mutex.go:149 +0x15d
internal/sync.(*Mutex).Lock(...)
\t/usr/local/go/src/internal/sync/mutex.go:70
sync.(*Mutex).Lock(...)
\t/usr/local/go/src/sync/mutex.go:46
example.com/app/store.(*Cache).Get(@, {@, 0x12})
\t/src/app/store/cache.go:88 +0x3d
example.com/app/api.(*Server).handleOrder(@, {0x9b4f20, @}, @)
\t/src/app/api/orders.go:141 +0x1a5
net/http.HandlerFunc.ServeHTTP(@, {0x9b4f20?, @?}, @?)
\t/usr/local/go/src/net/http/server.go:2322 +0x29
net/http.serverHandler.ServeHTTP({@?}, {0x9b4f20?, @?}, 0x6?)
\t/usr/local/go/src/net/http/server.go:3340 +0x8e
net/http.(*conn).serve(@, {0x9b5e18, @})
\t/usr/local/go/src/net/http/server.go:2109 +0x665
created by net/http.(*Server).Serve in goroutine 1
\t/usr/local/go/src/net/http/server.go:3493 +0x485
",
    ),
    (
        "IO wait",
        "internal/poll.runtime_pollWait(@, 0x72)
\t/usr/local/go/src/runtime/netpoll.go:351 +0x85
internal/poll.(*pollDesc).wait(@?, @?, 0x0)
\t/usr/local/go/src/internal/poll/fd_poll_runtime.go:84 +0x27
internal/poll.(*pollDesc).waitRead(...)
\t/usr/local/go/src/internal/poll/fd_poll_runtime.go:89
internal/poll.(*FD).Read(@, {@, 0x1000, 0x1000})
\t/usr/local/go/src/internal/poll/fd_unix.go:165 +0x27a
net.(*netFD).Read(@, {@?, @?, @?})
\t/usr/local/go/src/net/fd_posix.go:68 +0x25
net.(*conn).Read(@, {@?, @?, @?})
\t/usr/local/go/src/net/net.go:196 +0x45
net/http.(*connReader).Read(@, {@, 0x1000, 0x1000})
\t/usr/local/go/src/net/http/server.go:798 +0x159
bufio.(*Reader).fill(@)
\t/usr/local/go/src/bufio/bufio.go:113 +0x103
bufio.(*Reader).Peek(@, 0x4)
\t/usr/local/go/src/bufio/bufio.go:152 +0x53
net/http.(*conn).serve(@, {0x9b5e18, @})
\t/usr/local/go/src/net/http/server.go:2074 +0x749
created by net/http.(*Server).Serve in goroutine 1
\t/usr/local/go/src/net/http/server.go:3493 +0x485
",
    ),
    (
        "chan receive",
        "example.com/app/worker.(*Pool).loop(@, 0x3)
\t/src/app/worker/pool.go:52 +0x8a
created by example.com/app/worker.New in goroutine 1
\t/src/app/worker/pool.go:31 +0x127
",
    ),
    (
        "select",
        "database/sql.(*DB).conn(@, {0x9b6a08, @}, 0x1)
\t/usr/local/go/src/database/sql/sql.go:1369 +0x425
database/sql.(*DB).query(@, {0x9b6a08, @}, {0x8f1e55, 0x2a}, {@, 0x1, 0x1}, 0x0?)
\t/usr/local/go/src/database/sql/sql.go:1744 +0x57
database/sql.(*DB).QueryContext.func1(0x0?)
\t/usr/local/go/src/database/sql/sql.go:1727 +0x4f
database/sql.(*DB).retry(@?, @)
\t/usr/local/go/src/database/sql/sql.go:1576 +0x42
database/sql.(*DB).QueryContext(@?, {0x9b6a08?, @?}, {0x8f1e55?, 0x2a?}, {@?, 0x0?, 0x0?})
\t/usr/local/go/src/database/sql/sql.go:1726 +0xc5
example.com/app/store.(*Orders).List(@, {0x9b6a08, @}, @)
\t/src/app/store/orders.go:77 +0x10d
created by example.com/app/api.(*Server).fanout in goroutine 48
\t/src/app/api/fanout.go:22 +0x9c
",
    ),
];

fn dump(target_bytes: usize) -> Vec<u8> {
    let mut out = String::with_capacity(target_bytes + 4096);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut i = 0u64;
    while out.len() < target_bytes {
        let (status, body) = BLOCKS[(i % BLOCKS.len() as u64) as usize];
        let _ = write!(out, "goroutine {} [{status}", i + 1);
        if i % 3 != 0 {
            let _ = write!(out, ", {} minutes", 1 + (i / 7) % 300);
        }
        out.push(']');
        if i % 20 == 0 {
            out.push_str(" {handler: /api/v1/orders, \"request kind\": \"batch]x\"}");
        }
        out.push_str(":\n");
        for part in body.split('@') {
            out.push_str(part);
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let _ = write!(out, "0xc{:09x}", seed >> 28);
        }
        // The loop above appended one word too many after the last part.
        out.truncate(out.len() - 12);
        out.push('\n');
        i += 1;
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let data = dump(30 << 20);
    let mut g = c.benchmark_group("traceback");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    for threads in [1, 0] {
        let name = if threads == 1 {
            "one thread"
        } else {
            "all cores"
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let opts = Options {
                    threads,
                    ..Options::default()
                };
                let snap = traceback::parse(Box::new(Cursor::new(data.clone())), "bench", &opts)
                    .expect("the generated dump parses");
                assert!(snap.goroutines.len() > 10_000);
                snap
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
