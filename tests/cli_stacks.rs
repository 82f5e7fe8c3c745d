//! `hangdoc stacks` as a user runs it: the built binary on real socket tables and bad input.
//! (Grouping and both output formats are tested on hand-built snapshots in `src/report/`.)

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/sockets/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn hangdoc(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hangdoc"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hangdoc");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait for hangdoc")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_socket_table_alone_is_an_error_that_says_so() {
    let path = fixture("ss-tanp.txt");
    let o = hangdoc(&["stacks", &path], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "error: {path}: a socket table (25 TCP sockets) holds no goroutines"
        )),
        "{err}"
    );
}

#[test]
fn every_socket_table_layout_is_recognised() {
    for (name, sockets) in [
        ("ss-tan.txt", 25),
        ("ss-tn.txt", 22),
        ("netstat-anp.txt", 25),
        ("netstat-a.txt", 25),
        ("proc-net-tcp.txt", 16),
        ("proc-net-tcp6.txt", 9),
    ] {
        let o = hangdoc(&["stacks", "--format", "json", &fixture(name)], b"");
        assert_eq!(o.status.code(), Some(2), "{name}");
        let err = stderr(&o);
        assert!(
            err.contains(&format!("a socket table ({sockets} TCP sockets)")),
            "{name}: {err}"
        );
        assert!(!err.contains("warning:"), "{name}: {err}");
    }
}

#[test]
fn reading_warnings_name_source_and_line() {
    let path = fixture("ss-tn-state-close-wait.txt");
    let o = hangdoc(&["stacks", &path], b"");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("warning: {path}:2: the table has no State column")),
        "{err}"
    );
}

#[test]
fn socket_table_on_stdin() {
    let table = std::fs::read(fixture("netstat-an.txt")).expect("fixture");
    let o = hangdoc(&["stacks", "-"], &table);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: <stdin>: a socket table (25 TCP sockets)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn empty_input_is_named() {
    let o = hangdoc(&["stacks", "-"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: <stdin>: the input is empty"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_file_is_named_once() {
    let o = hangdoc(&["stacks", "/nonexistent/dump.txt"], b"");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    assert!(err.starts_with("error: /nonexistent/dump.txt: "), "{err}");
}

#[test]
fn bad_regex_is_an_error_before_reading() {
    let o = hangdoc(&["stacks", "--state", "chan (send", "/nonexistent"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: --state `chan (send` is not a valid regular expression"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = hangdoc(&["stacks", "--format", "yaml", "x"], b"");
    assert_eq!(o.status.code(), Some(2));
    let o = hangdoc(&["stacks"], b"");
    assert_eq!(o.status.code(), Some(2));
    let o = hangdoc(&["stacks", "--help"], b"");
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--format",
        "--group",
        "--state",
        "--match",
        "--min-count",
        "--color",
        "--full",
        "--output",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
}
