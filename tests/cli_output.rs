//! What `hangdoc diagnose` and `hangdoc stacks` print, as a user sees it through a pipe:
//! colour only when asked (and never with `NO_COLOR` unless `--color always`), no escapes at
//! all otherwise, the width honoured, no pager, and a hostile dump unable to drive the
//! terminal.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn scenario(name: &str) -> String {
    format!(
        "{}/tests/fixtures/scenarios/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn hangdoc(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hangdoc"));
    cmd.args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        .env_remove("PAGER")
        .env_remove("HANGDOC_PAGER");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
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

fn stdout(o: &Output) -> String {
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "hangdoc failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

/// Hand-written: a Go 1.27 debug=2 dump whose every piece of text a program controls
/// carries terminal escapes — OSC and CSI sequences in labels (quoted as the runtime quotes
/// them), raw ESC and CR in a function name and a file path (the runtime prints those
/// as they are), a C1 CSI, and a right-to-left override.
const HOSTILE: &str = concat!(
    "goroutine 1 [running]:\n",
    "main.main()\n",
    "\t/src/app/main.go:5 +0x20\n",
    "\n",
    "goroutine 7 [chan send, 12 minutes] {route: \"/api\\x1b]0;pwned\\x07\", \"user\\x1b[8m\": \"\\u202eevil\"}:\n",
    "main.(*Evil\x1b[2J).Send\x1b[31m(0xc000010000)\n",
    "\t/src/app/ev\ril\u{9b}2K.go:10 +0x1d\n",
    "main.handle\u{202e}()\n",
    "\t/src/app/main.go:12 +0x30\n",
    "created by main.main in goroutine 1\n",
    "\t/src/app/main.go:5 +0x20\n",
    "\n",
    "goroutine 8 [chan send, 12 minutes] {route: \"/api\\x1b]0;pwned\\x07\", \"user\\x1b[8m\": \"\\u202eevil\"}:\n",
    "main.(*Evil\x1b[2J).Send\x1b[31m(0xc000010000)\n",
    "\t/src/app/ev\ril\u{9b}2K.go:10 +0x1d\n",
    "main.handle\u{202e}()\n",
    "\t/src/app/main.go:12 +0x30\n",
    "created by main.main in goroutine 1\n",
    "\t/src/app/main.go:5 +0x20\n",
);

/// Control characters and bidirectional overrides other than the line feed.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// Removes SGR sequences (`ESC [ digits/semicolons m`), the only escapes colour may add.
fn strip_sgr(s: &str) -> String {
    let re = regex::Regex::new(r"\x1b\[[0-9;]*m").unwrap();
    re.replace_all(s, "").into_owned()
}

#[test]
fn hostile_text_cannot_drive_the_terminal() {
    for args in [
        &["stacks", "-"][..],
        &["stacks", "--full", "-"],
        &["diagnose", "-"],
        &["diagnose", "--all", "-"],
    ] {
        let plain = stdout(&hangdoc(args, &[], HOSTILE.as_bytes()));
        assert!(
            plain.contains("Evil"),
            "{args:?} lost the goroutines:\n{plain}"
        );
        assert_eq!(raw_controls(&plain), [], "{args:?} printed:\n{plain}");
        assert!(
            plain.contains("\\u{1b}"),
            "{args:?}: escapes are shown, not dropped"
        );

        let mut with = args.to_vec();
        with.insert(1, "--color=always");
        let o = hangdoc(&with, &[], HOSTILE.as_bytes());
        let coloured = stdout(&o);
        assert!(coloured.contains("\x1b["), "{with:?} has no colour");
        assert_eq!(raw_controls(&strip_sgr(&coloured)), [], "{with:?}");
        assert_eq!(raw_controls(&String::from_utf8_lossy(&o.stderr)), []);
    }
}

#[test]
fn no_escapes_when_piped_and_no_color_respected() {
    let dir = scenario("mutex-unlock-missed");
    for cmd in ["diagnose", "stacks"] {
        let piped = stdout(&hangdoc(&[cmd, &dir], &[], b""));
        assert!(!piped.contains('\x1b'), "{cmd} coloured a pipe");
        let forced = stdout(&hangdoc(&[cmd, &dir], &[("CLICOLOR_FORCE", "1")], b""));
        assert!(forced.contains("\x1b["), "{cmd} ignored CLICOLOR_FORCE");
        let both = [("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")];
        let no = stdout(&hangdoc(&[cmd, &dir], &both, b""));
        assert!(!no.contains('\x1b'), "{cmd} ignored NO_COLOR");
        let always = stdout(&hangdoc(
            &[cmd, "--color", "always", &dir],
            &[("NO_COLOR", "1")],
            b"",
        ));
        assert!(always.contains("\x1b["), "{cmd}: --color always must win");
        assert_eq!(
            strip_sgr(&always),
            piped,
            "{cmd}: colour changes only colour"
        );
        let never = stdout(&hangdoc(
            &[cmd, "--color", "never", &dir],
            &[("CLICOLOR_FORCE", "1")],
            b"",
        ));
        assert!(!never.contains('\x1b'));
    }
    let bad = hangdoc(&["diagnose", "--color", "sometimes", &dir], &[], b"");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn width_is_honoured_and_lines_have_no_trailing_blanks() {
    // Source lines are code: shown as they are, never wrapped.
    let code = regex::Regex::new(r"^    (>| ) +[0-9]+ \|").unwrap();
    for name in [
        "logger-consumer-exited",
        "mutex-unlock-missed",
        "once-notify-chan",
        "redis-nested-pool",
        "sql-rows-leak",
    ] {
        let dir = scenario(name);
        for width in [60usize, 80, 120] {
            let cols = width.to_string();
            let src = format!("{}/scenarios/incidents/{name}", env!("CARGO_MANIFEST_DIR"));
            let out = stdout(&hangdoc(
                &["diagnose", "--all", "--src", &src, &dir],
                &[("COLUMNS", &cols)],
                b"",
            ));
            for line in out.lines() {
                assert_eq!(line, line.trim_end(), "{name}: trailing blanks");
                let len = line.chars().count();
                if len <= width || code.is_match(line) {
                    continue;
                }
                // Wrapping breaks only between words: a line may pass the edge only when
                // it holds one word after its indent and label (a long identifier or path).
                let words: Vec<&str> = line
                    .trim_start()
                    .trim_start_matches(['-', ' '])
                    .split(' ')
                    .collect();
                let indent = line.len() - line.trim_start().len();
                let unbreakable = words.len() == 1
                    || words.iter().any(|w| indent + w.chars().count() + 4 > width);
                assert!(
                    unbreakable,
                    "{name} at {width} columns: `{line}` ({len}) could have wrapped"
                );
            }
        }
        // The first screen of a narrow terminal says what is stuck, why, and where to fix.
        let out = stdout(&hangdoc(&["diagnose", &dir], &[("COLUMNS", "80")], b""));
        let first: Vec<&str> = out.lines().take(24).collect();
        let first = first.join("\n");
        for want in ["CRITICAL", "fix here:", "why:"] {
            assert!(first.contains(want), "{name}: no `{want}` in\n{first}");
        }
    }
}

#[test]
fn narrower_terminal_means_narrower_prose() {
    let dir = scenario("redis-nested-pool");
    let longest = |cols: &str| {
        let out = stdout(&hangdoc(&["diagnose", &dir], &[("COLUMNS", cols)], b""));
        out.lines()
            .filter(|l| l.trim_start().starts_with("- "))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    };
    assert!(longest("60") <= 60);
    assert!(longest("140") > 100, "wide terminals get wide lines");
}

#[test]
fn no_pager_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pager-ran");
    let pager = format!("touch '{}'; cat", marker.display());
    let out = stdout(&hangdoc(
        &["diagnose", "--all", &scenario("mutex-unlock-missed")],
        &[("PAGER", &pager), ("HANGDOC_PAGER", &pager)],
        b"",
    ));
    assert!(out.contains("fix here:"));
    assert!(!marker.exists(), "a pager ran with standard output a pipe");
}
