//! Where text output goes, decided once for every command: colour or not, how wide, whether
//! to page; and the escaping that keeps text from the evidence from driving the terminal.
//!
//! The decisions are pure functions of [`Env`] (what the process sees: is standard output a
//! terminal, its size, a few environment variables), so they are tested without a terminal.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set to something, or `CLICOLOR_FORCE` asks
    /// for colour anyway; never when `TERM=dumb`.
    #[default]
    Auto,
    /// Always, even with `NO_COLOR` (a flag on the command line wins over the environment).
    Always,
    /// Never.
    Never,
}

/// Width when nothing says otherwise (output to a pipe or a file, no `COLUMNS`).
pub const DEFAULT_WIDTH: usize = 100;
/// Narrowest width wrapped to: below this, prose would be a word per line.
pub const MIN_WIDTH: usize = 40;
/// Widest width wrapped to: longer lines of prose are hard to read on any screen.
pub const MAX_WIDTH: usize = 160;

/// What the process sees of its output and environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Standard output is a terminal and the report goes there (no `-o FILE`).
    pub terminal: bool,
    /// The terminal's size in columns and rows, when known.
    pub size: Option<(usize, usize)>,
    /// `NO_COLOR`.
    pub no_color: Option<OsString>,
    /// `CLICOLOR_FORCE`.
    pub clicolor_force: Option<OsString>,
    /// `TERM`.
    pub term: Option<OsString>,
    /// `COLUMNS`.
    pub columns: Option<OsString>,
}

impl Env {
    /// Reads the environment; `to_stdout` is false when the report goes to a file.
    pub fn detect(to_stdout: bool) -> Env {
        let terminal = to_stdout && io::stdout().is_terminal();
        let size = terminal
            .then(|| terminal_size::terminal_size_of(io::stdout()))
            .flatten()
            .map(|(w, h)| (w.0 as usize, h.0 as usize))
            .filter(|&(w, h)| w > 0 && h > 0);
        Env {
            terminal,
            size,
            no_color: std::env::var_os("NO_COLOR"),
            clicolor_force: std::env::var_os("CLICOLOR_FORCE"),
            term: std::env::var_os("TERM"),
            columns: std::env::var_os("COLUMNS"),
        }
    }
}

/// How text output looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Emit SGR colour codes (and no other escapes).
    pub color: bool,
    /// Wrap prose at this many columns.
    pub width: usize,
    /// Rows of the terminal, when the output goes to one: a longer report is paged.
    pub rows: Option<usize>,
}

impl Terminal {
    /// Decides colour and width from the flag and what the process sees.
    pub fn decide(when: ColorWhen, env: &Env) -> Terminal {
        let set = |v: &Option<OsString>| v.as_ref().is_some_and(|v| !v.is_empty());
        let color = match when {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto if set(&env.no_color) => false,
            ColorWhen::Auto
                if set(&env.clicolor_force)
                    && env.clicolor_force.as_deref() != Some("0".as_ref()) =>
            {
                true
            }
            ColorWhen::Auto => env.terminal && env.term.as_deref() != Some("dumb".as_ref()),
        };
        let columns = env
            .columns
            .as_ref()
            .and_then(|c| c.to_str())
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&c| c > 0);
        let width = env
            .size
            .map(|(w, _)| w)
            .or(columns)
            .unwrap_or(DEFAULT_WIDTH)
            .clamp(MIN_WIDTH, MAX_WIDTH);
        Terminal {
            color,
            width,
            rows: env.size.map(|(_, h)| h),
        }
    }
}

/// Text from the evidence made safe to print on a terminal: control characters (C0 but
/// for nothing, DEL, C1), bidirectional overrides and line separators are written as Rust
/// escapes (`\u{1b}`, `\r`, `\n`, `\t`), so a hostile dump cannot recolour the screen, move
/// the cursor, hide a line or reorder what is shown. Everything else passes unchanged.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A line of source code for the terminal: tabs become four spaces (Go source is indented
/// with tabs, and a tab stop of eight wastes a narrow screen), anything else unsafe is
/// escaped as in [`clean`], and trailing blanks go.
pub fn clean_code(line: &str) -> String {
    clean(&line.replace('\t', "    ")).trim_end().to_string()
}

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Writes a finished report to standard output, through a pager when it is longer than the
/// terminal (`rows`) and `page` allows: `$HANGDOC_PAGER`, else `$PAGER`, else `less` (with
/// `LESS=FRX` unless `LESS` is set: quit when it fits, keep SGR colours, leave the text on
/// the screen). An empty pager or `cat` means no pager; a pager that cannot start means
/// writing directly. A pager that quits before reading everything is not an error.
pub fn emit(buf: &[u8], rows: Option<usize>, page: bool) -> io::Result<()> {
    let long = rows.is_some_and(|r| bytecount_lines(buf) >= r);
    if page && long {
        if let Some(cmd) = pager_command() {
            if let Some(done) = pager::run(&cmd, buf) {
                return done;
            }
        }
    }
    let mut out = io::stdout().lock();
    out.write_all(buf)?;
    out.flush()
}

fn bytecount_lines(buf: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', buf).count()
}

/// The pager to run, if any.
fn pager_command() -> Option<String> {
    let cmd = std::env::var("HANGDOC_PAGER")
        .or_else(|_| std::env::var("PAGER"))
        .unwrap_or_else(|_| "less".into());
    let cmd = cmd.trim();
    (!cmd.is_empty() && cmd != "cat").then(|| cmd.to_string())
}

#[cfg(unix)]
mod pager {
    use std::io::{self, Write};
    use std::process::{Command, Stdio};

    /// Runs `cmd` through the shell with `buf` on its input and waits for it; `None` when it
    /// cannot start (then the caller writes directly).
    pub(super) fn run(cmd: &str, buf: &[u8]) -> Option<io::Result<()>> {
        let mut c = Command::new("sh");
        c.arg("-c").arg(cmd).stdin(Stdio::piped());
        if std::env::var_os("LESS").is_none() {
            c.env("LESS", "FRX");
        }
        if std::env::var_os("LV").is_none() {
            c.env("LV", "-c");
        }
        let mut child = c.spawn().ok()?;
        // Ctrl-C while the pager runs goes to both processes: the pager handles it, and
        // hangdoc must stay until the pager is done, or the shell takes the terminal back
        // from under it.
        let _guard = IgnoreInterrupt::new();
        let written = child.stdin.take().map(|mut stdin| stdin.write_all(buf));
        let waited = child.wait();
        Some(match (written, waited) {
            (_, Err(e)) => Err(e),
            (Some(Err(e)), _) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(()),
        })
    }

    /// Ignores SIGINT until dropped.
    struct IgnoreInterrupt(libc::sighandler_t);

    impl IgnoreInterrupt {
        fn new() -> Self {
            // SAFETY: installing SIG_IGN and restoring the previous disposition is
            // async-signal-safe and touches no Rust state.
            IgnoreInterrupt(unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) })
        }
    }

    impl Drop for IgnoreInterrupt {
        fn drop(&mut self) {
            // SAFETY: as in `new`.
            unsafe {
                libc::signal(libc::SIGINT, self.0);
            }
        }
    }
}

#[cfg(not(unix))]
mod pager {
    /// No pager outside Unix.
    pub(super) fn run(_cmd: &str, _buf: &[u8]) -> Option<std::io::Result<()>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(terminal: bool, vars: &[(&str, &str)]) -> Env {
        let get = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.into());
        Env {
            terminal,
            size: terminal.then_some((80, 24)),
            no_color: get("NO_COLOR"),
            clicolor_force: get("CLICOLOR_FORCE"),
            term: get("TERM"),
            columns: get("COLUMNS"),
        }
    }

    fn color(when: ColorWhen, terminal: bool, vars: &[(&str, &str)]) -> bool {
        Terminal::decide(when, &env(terminal, vars)).color
    }

    #[test]
    fn colour_on_a_terminal_only_and_never_with_no_color() {
        use ColorWhen::*;
        assert!(color(Auto, true, &[]));
        assert!(!color(Auto, false, &[]), "piped output is plain");
        assert!(!color(Auto, true, &[("NO_COLOR", "1")]));
        assert!(
            color(Auto, true, &[("NO_COLOR", "")]),
            "empty NO_COLOR is unset"
        );
        assert!(!color(Auto, true, &[("TERM", "dumb")]));
        assert!(color(Auto, false, &[("CLICOLOR_FORCE", "1")]));
        assert!(!color(Auto, false, &[("CLICOLOR_FORCE", "0")]));
        assert!(!color(
            Auto,
            true,
            &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]
        ));
        assert!(color(Always, false, &[("NO_COLOR", "1")]), "the flag wins");
        assert!(!color(Never, true, &[("CLICOLOR_FORCE", "1")]));
    }

    #[test]
    fn width_from_the_terminal_then_columns_then_default() {
        let w = |terminal, vars: &[(&str, &str)]| {
            Terminal::decide(ColorWhen::Auto, &env(terminal, vars)).width
        };
        assert_eq!(w(true, &[("COLUMNS", "132")]), 80, "the real size wins");
        assert_eq!(w(false, &[("COLUMNS", "132")]), 132);
        assert_eq!(w(false, &[("COLUMNS", " 90 ")]), 90);
        assert_eq!(w(false, &[("COLUMNS", "wide")]), DEFAULT_WIDTH);
        assert_eq!(w(false, &[]), DEFAULT_WIDTH);
        assert_eq!(w(false, &[("COLUMNS", "12")]), MIN_WIDTH);
        assert_eq!(w(false, &[("COLUMNS", "500")]), MAX_WIDTH);
        let t = Terminal::decide(ColorWhen::Auto, &env(true, &[]));
        assert_eq!(t.rows, Some(24));
        assert_eq!(
            Terminal::decide(ColorWhen::Auto, &env(false, &[])).rows,
            None
        );
    }

    #[test]
    fn clean_escapes_what_drives_a_terminal() {
        assert_eq!(clean("main.(*T).Run"), "main.(*T).Run");
        assert!(matches!(clean("plain ü → ok"), Cow::Borrowed(_)));
        assert_eq!(clean("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(clean("a\rb\nc\td"), "a\\rb\\nc\\td");
        assert_eq!(clean("x\u{9b}2J"), "x\\u{9b}2J");
        assert_eq!(clean("x\u{7f}"), "x\\u{7f}");
        assert_eq!(clean("evil\u{202e}gnp.exe"), "evil\\u{202e}gnp.exe");
        assert_eq!(clean("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(clean_code("\tif x {  \x1b[2K"), "    if x {  \\u{1b}[2K");
        assert_eq!(clean_code("\t}\t"), "    }");
    }
}
