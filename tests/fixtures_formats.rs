//! Every committed format fixture (tests/fixtures/<format>/*) parsed with hangdoc and compared
//! with the `*.expect.json` that the Go program which produced it wrote: goroutine totals,
//! and per group of goroutines the program started, how many, their state, labels, flags,
//! creator and parent.
//!
//! NOTE: these tests fail until the parsers for each format are merged (on the branch that
//! added the fixtures the parsers were placeholders). They are meant to pass once they are.

#[path = "fixtures_formats/expect.rs"]
mod expect;

use std::path::PathBuf;

fn check(dir: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let n = expect::check_all(&path);
    assert!(n > 0, "no *.expect.json under {}", path.display());
}

macro_rules! fixture_dirs {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
    };
}

fixture_dirs!(
    debug2,
    debug1,
    proto,
    traces,
    sigquit,
    panic,
    fatal,
    testtimeout,
    leak,
    labels,
    derived,
);

#[test]
fn generic_names_compare_with_brackets_elided() {
    assert_eq!(
        expect::normalise("main.(*Box[go.shape.int]).Await[go.shape.string]"),
        "main.(*Box[...]).Await[...]"
    );
    assert_eq!(
        expect::normalise("main.Wait[go.shape.struct { A int; B string }]"),
        "main.Wait[...]"
    );
    assert_eq!(expect::normalise("main.Wait[...]"), "main.Wait[...]");
}
