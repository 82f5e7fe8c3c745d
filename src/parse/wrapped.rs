//! Dumps inside other text. A dump often reaches hangdoc wrapped in something that hides its
//! grammar; once the wrapping is taken off, the format parsers read it as usual:
//!
//! - **indented**: pasted with one indent on every line (a Markdown code block, an e-mail
//!   quote `> `);
//! - **prefixed**: each line carries a log prefix (`journalctl`'s
//!   `Jul 08 11:45:46 host app[42]: `, a container runtime's `2024-05-01T10:00:00.1Z stderr F `,
//!   `docker compose`'s `web-1  | `);
//! - **escaped**: written into log messages with escaped newlines and TABs
//!   (`msg="=== BEGIN goroutine stack dump ===\ngoroutine 45 [running]:\n…"`, JSON lines
//!   `{"log":"goroutine 1 [running]:\n",…}`).
//!
//! [`detect`] looks at the head of an input that no format claimed; [`unwrap`] writes the
//! unwrapped text into a new buffer (the input itself is never changed), and [`note`] is the
//! warning that tells the user what was done.

use memchr::memmem;

use super::traceback::is_header_line;

/// How a dump is wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wrapping {
    /// Every line of the dump starts with these bytes (spaces, TABs, `>`).
    Indent(Vec<u8>),
    /// Every line starts with a log prefix of `spaces` space-separated words; `shape` is the
    /// start of the prefix with digits as `9` and letters as `a`, to tell its lines from
    /// others.
    Prefix {
        /// Spaces in the prefix, the last one ending it.
        spaces: usize,
        /// The prefix's first bytes, classified.
        shape: Vec<u8>,
    },
    /// The dump is the escaped value of a log field: `key` is the text that opens the value
    /// (`msg="`, `"log":"`), or `None` when the value is not quoted.
    Escaped {
        /// The field's opening text, quote included.
        key: Option<Vec<u8>>,
    },
}

/// How many bytes of a prefix are compared by shape.
const SHAPE_LEN: usize = 4;

/// The wrapping of the dump in `head`, when a goroutine header is found inside other text
/// and the line after it is a frame under the same wrapping.
pub fn detect(head: &[u8]) -> Option<Wrapping> {
    if let Some(w) = detect_escaped(head) {
        return Some(w);
    }
    let mut lines = head.split(|&b| b == b'\n').map(strip_cr).peekable();
    while let Some(line) = lines.next() {
        let Some(k) = header_at(line) else {
            continue;
        };
        let prefix = &line[..k];
        let w = if prefix.iter().all(|b| matches!(b, b' ' | b'\t' | b'>')) {
            Wrapping::Indent(prefix.to_vec())
        } else if prefix.ends_with(b" ") {
            Wrapping::Prefix {
                spaces: prefix.iter().filter(|&&b| b == b' ').count(),
                shape: shape(prefix),
            }
        } else {
            continue;
        };
        // The next line, under the same wrapping, is the first frame.
        let next = lines.peek().copied().unwrap_or_default();
        if let Some(frame) = strip(&w, next) {
            if frame.ends_with(b")") || frame.starts_with(b"\tgoroutine running on other thread") {
                return Some(w);
            }
        }
    }
    None
}

/// The input with its wrapping taken off: the lines that carry it get shorter, the header's
/// line at least, and no line gets longer.
pub fn unwrap(data: &[u8], w: &Wrapping) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    for line in body.split(|&b| b == b'\n') {
        let line = strip_cr(line);
        match w {
            Wrapping::Escaped { key } => match escaped_value(line, key.as_deref()) {
                Some(value) => {
                    unescape(value, &mut out);
                    if out.last() != Some(&b'\n') {
                        out.push(b'\n');
                    }
                }
                None => {
                    out.extend_from_slice(line);
                    out.push(b'\n');
                }
            },
            _ => {
                out.extend_from_slice(strip(w, line).unwrap_or(line));
                out.push(b'\n');
            }
        }
    }
    if !data.ends_with(b"\n") && out.last() == Some(&b'\n') {
        out.pop();
    }
    out
}

/// The warning that says what [`unwrap`] did.
pub fn note(w: &Wrapping) -> String {
    match w {
        Wrapping::Indent(prefix) => format!(
            "the dump is indented (each line starts with {:?}, as in a pasted or quoted dump); the indent was removed before reading",
            String::from_utf8_lossy(prefix)
        ),
        Wrapping::Prefix { .. } => "each line of the dump carries a log prefix (timestamp, host, process); the prefixes were removed before reading".into(),
        Wrapping::Escaped { key } => format!(
            "the dump is written inside log messages{} with escaped newlines (`\\n`); it was unescaped before reading, so line numbers in other warnings count lines of the unescaped text",
            key.as_ref()
                .map(|k| format!(" (field `{}`)", String::from_utf8_lossy(k)))
                .unwrap_or_default()
        ),
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Where a goroutine header starts inside `line`, after at least one byte of other text.
fn header_at(line: &[u8]) -> Option<usize> {
    memmem::find_iter(line, b"goroutine ").find(|&i| {
        i > 0 && matches!(line[i - 1], b' ' | b'\t' | b'>') && is_header_line(&line[i..])
    })
}

/// Digits as `9`, letters as `a`, other bytes as themselves: the shape of a prefix's start.
fn shape(prefix: &[u8]) -> Vec<u8> {
    prefix
        .iter()
        .take(SHAPE_LEN)
        .map(|&b| match b {
            b'0'..=b'9' => b'9',
            b if b.is_ascii_alphabetic() => b'a',
            b => b,
        })
        .collect()
}

/// `line` without the wrapping, or `None` when it does not carry it.
fn strip<'a>(w: &Wrapping, line: &'a [u8]) -> Option<&'a [u8]> {
    match w {
        Wrapping::Indent(prefix) => {
            if let Some(rest) = line.strip_prefix(&prefix[..]) {
                return Some(rest);
            }
            // A blank line of the dump, whose trailing blanks an editor removed.
            let bare = prefix.trim_ascii_end();
            (line.trim_ascii_end() == bare).then_some(&line[..0])
        }
        Wrapping::Prefix { spaces, shape: s } => {
            if shape(line) != *s {
                return None;
            }
            let mut seen = 0;
            for (i, &b) in line.iter().enumerate() {
                if b == b' ' {
                    seen += 1;
                    if seen == *spaces {
                        return Some(&line[i + 1..]);
                    }
                }
            }
            // The prefix of an empty message (the blank line between two goroutines).
            Some(&line[..0])
        }
        Wrapping::Escaped { .. } => None,
    }
}

/// An escaped dump: a goroutine header right after an escaped newline (`\ngoroutine 1 [`)
/// or at the start of a quoted value (`"goroutine 1 [`), followed by an escaped newline
/// and a function line.
fn detect_escaped(head: &[u8]) -> Option<Wrapping> {
    for i in memmem::find_iter(head, b"goroutine ") {
        let after_newline = i >= 2 && &head[i - 2..i] == b"\\n";
        let after_quote = i >= 1 && head[i - 1] == b'"';
        if !(after_newline || after_quote) || !is_header_line(&head[i..]) {
            continue;
        }
        let line_end = memchr::memchr(b'\n', &head[i..]).map_or(head.len(), |e| i + e);
        let rest = &head[i..line_end];
        // The header's own escaped newline, then a function line `name(args)\n`.
        let Some(nl) = memmem::find(rest, b"]:\\n") else {
            continue;
        };
        let line_start = memchr::memrchr(b'\n', &head[..i]).map_or(0, |s| s + 1);
        let key = opening_key(&head[line_start..i]);
        let frame = &rest[nl + 4..];
        let frame_end = memchr::memchr2(b'\\', b'"', frame).unwrap_or(frame.len());
        let framed = if frame_end == 0 && frame.first() == Some(&b'"') {
            // One log record per line of the dump: the frame is the next record's value.
            let next = head.get(line_end + 1..).unwrap_or_default();
            let next = &next[..memchr::memchr(b'\n', next).unwrap_or(next.len())];
            key.as_deref()
                .and_then(|k| escaped_value(next, Some(k)))
                .is_some_and(|v| v.ends_with(b")\\n"))
        } else {
            frame[..frame_end].ends_with(b")")
        };
        if framed {
            return Some(Wrapping::Escaped { key });
        }
    }
    None
}

/// The field that opens the quoted value holding the end of `before`: from the last quote
/// not escaped back to the start of its key (`msg="`, `"log":"`).
fn opening_key(before: &[u8]) -> Option<Vec<u8>> {
    let mut quote: Option<(usize, bool)> = None;
    let mut escaped = false;
    for (i, &b) in before.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quote = match quote {
                // An opening quote when the count so far is even.
                Some((_, open)) => Some((i, !open)),
                None => Some((i, true)),
            };
        }
    }
    let (q, open) = quote?;
    if !open {
        return None;
    }
    let start = before[..q]
        .iter()
        .rposition(|&b| matches!(b, b' ' | b'{' | b',' | b'\t'))
        .map_or(0, |s| s + 1);
    Some(before[start..=q].to_vec())
}

/// The escaped value on `line`: after `key` when the wrapping has one, else from the first
/// escaped header or frame; up to the closing quote or the end of the line.
fn escaped_value<'a>(line: &'a [u8], key: Option<&[u8]>) -> Option<&'a [u8]> {
    let start = match key {
        Some(k) => memmem::find(line, k)? + k.len(),
        None => {
            let h = memmem::find_iter(line, b"goroutine ")
                .find(|&i| i >= 2 && &line[i - 2..i] == b"\\n" && is_header_line(&line[i..]));
            match h {
                Some(i) => i,
                None => memmem::find(line, b"\\n\\t")?,
            }
        }
    };
    let value = &line[start..];
    let mut escaped = false;
    for (i, &b) in value.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' && key.is_some() {
            return Some(&value[..i]);
        }
    }
    Some(value)
}

/// Appends `value` with its escapes (`\n \t \r \" \\ \/ \uXXXX`) decoded; `\r` is dropped
/// and unknown escapes are kept as written.
fn unescape(value: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < value.len() {
        let b = value[i];
        if b != b'\\' || i + 1 == value.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let next = value[i + 1];
        i += 2;
        match next {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => {}
            b'"' | b'\\' | b'/' => out.push(next),
            b'u' => {
                let code = value
                    .get(i..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32);
                match code {
                    Some(c) => {
                        let mut buf = [0; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        i += 4;
                    }
                    None => out.extend_from_slice(b"\\u"),
                }
            }
            other => out.extend_from_slice(&[b'\\', other]),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Every input here is a hand-written snippet in the shape the named tool writes.

    use super::*;
    use crate::model::{Format, Snapshot};
    use crate::parse::{Options, parse_reader};

    fn read(text: &str) -> Snapshot {
        parse_reader(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            "w.txt",
            &Options::default(),
        )
        .expect("parses")
    }

    fn funcs(s: &Snapshot, i: usize) -> Vec<String> {
        s.stack(&s.goroutines[i])
            .frames
            .iter()
            .map(|f| format!("{} {}:{}", f.function, f.file, f.line))
            .collect()
    }

    fn first_warning(s: &Snapshot) -> &str {
        &s.warnings.first().expect("a warning").message
    }

    const PLAIN: [&str; 2] = [
        "main.worker /src/app/main.go:30",
        "main.main /src/app/main.go:12",
    ];

    #[test]
    fn r_indented_paste_is_read_with_a_warning() {
        // A SIGQUIT dump pasted with a two-space indent; an editor trimmed the blank lines.
        let s = read(
            "Here is what it printed:\n\n  SIGQUIT: quit\n  PC=0x4720e1 m=0 sigcode=0\n\n  goroutine 20 gp=0xc000102000 m=nil [chan send, 3 minutes]:\n  main.worker(0xc000012345)\n  \t/src/app/main.go:30 +0x25\n  created by main.main in goroutine 1\n  \t/src/app/main.go:12 +0x3d\n\n  goroutine 21 gp=0xc000102380 m=nil [select]:\n  main.poll()\n  \t/src/app/poll.go:8 +0x1\n",
        );
        assert_eq!(s.format, Some(Format::Traceback));
        assert_eq!(s.goroutines.len(), 2);
        assert_eq!(s.goroutines[0].id, 20);
        assert_eq!(s.goroutines[0].wait_minutes, Some(3));
        assert_eq!(funcs(&s, 0), [PLAIN[0]]);
        assert_eq!(s.creator(&s.goroutines[0]).map(|f| f.line), Some(12));
        assert_eq!(
            s.preamble.first().map(String::as_str),
            Some("SIGQUIT: quit")
        );
        assert!(
            first_warning(&s).starts_with("the dump is indented (each line starts with \"  \"")
        );
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    }

    #[test]
    fn r_email_quote_is_read() {
        let s = read(
            "> goroutine 7 [chan receive]:\n> main.worker(0xc000012345)\n> \t/src/app/main.go:30 +0x25\n>\n> goroutine 8 [running]:\n> main.main()\n> \t/src/app/main.go:12 +0x1\n",
        );
        assert_eq!(s.goroutines.len(), 2);
        assert_eq!(funcs(&s, 0), [PLAIN[0]]);
        assert_eq!(funcs(&s, 1), ["main.main /src/app/main.go:12"]);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    }

    #[test]
    fn r_journald_prefixes_are_removed() {
        let p = "Jul 08 11:45:46 web-3 app[24486]: ";
        let s = read(&format!(
            "Jul 08 11:45:40 web-3 systemd[1]: Started app.\n{p}SIGQUIT: quit\n{p}\n{p}goroutine 7 [chan receive, 12 minutes]:\n{p}main.worker(0xc000012345)\n{p}\t/src/app/main.go:30 +0x25\n{p}\n{p}goroutine 8 [running]:\n{p}main.main()\n{p}\t/src/app/main.go:12 +0x1\n"
        ));
        assert_eq!(s.goroutines.len(), 2);
        assert_eq!(s.goroutines[0].wait_minutes, Some(12));
        assert_eq!(funcs(&s, 0), [PLAIN[0]]);
        assert!(first_warning(&s).starts_with("each line of the dump carries a log prefix"));
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    }

    #[test]
    fn r_container_log_prefixes_of_varying_width_are_removed() {
        // CRI log lines: the timestamp's fraction drops trailing zeros, so prefixes differ
        // in width; `docker compose` pads service names.
        for p in [
            [
                "2024-05-01T10:00:00.12345Z stderr F ",
                "2024-05-01T10:00:00.1Z stderr F ",
            ],
            ["web-1  | ", "web-1  | "],
        ] {
            let s = read(&format!(
                "{0}goroutine 7 [chan receive]:\n{1}main.worker(0xc000012345)\n{0}\t/src/app/main.go:30 +0x25\n{1}\n{0}goroutine 8 [running]:\n{1}main.main()\n{0}\t/src/app/main.go:12 +0x1\n",
                p[0], p[1]
            ));
            assert_eq!(s.goroutines.len(), 2, "{p:?}");
            assert_eq!(funcs(&s, 0), [PLAIN[0]], "{p:?}");
            assert_eq!(funcs(&s, 1), [PLAIN[1]], "{p:?}");
            assert_eq!(s.warnings.len(), 1, "{p:?}: {:?}", s.warnings);
        }
    }

    #[test]
    fn r_logrus_escaped_dump_is_unescaped() {
        // dockerd's SIGUSR1 dump through logrus: the whole dump is one quoted `msg`.
        let s = read(
            "time=\"2016-08-22T20:49:00.94+02:00\" level=info msg=\"=== BEGIN goroutine stack dump ===\\ngoroutine 45 [running]:\\nmain.worker(0xc000012345)\\n\\t/src/app/main.go:30 +0x25\\ncreated by main.main\\n\\t/src/app/main.go:12 +0x3d\\n\\ngoroutine 1 [chan receive, 2 minutes]:\\nmain.main()\\n\\t/src/app/main.go:12 +0x1\\n=== END goroutine stack dump ===\" component=daemon\ntime=\"2016-08-22T20:49:01Z\" level=info msg=\"done\"\n",
        );
        assert_eq!(s.goroutines.len(), 2);
        assert_eq!(funcs(&s, 0), [PLAIN[0]]);
        assert_eq!(s.goroutines[1].wait_minutes, Some(2));
        assert_eq!(s.creator(&s.goroutines[0]).map(|f| f.line), Some(12));
        assert!(
            first_warning(&s)
                .starts_with("the dump is written inside log messages (field `msg=\"`)"),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn r_json_lines_log_is_unescaped_line_by_line() {
        // A container runtime's JSON log: one record per line of the dump.
        let lines = [
            "goroutine 7 [chan receive]:\\n",
            "main.worker(0xc000012345)\\n",
            "\\t/src/app/main.go:30 +0x25\\n",
            "\\n",
            "goroutine 8 [running]:\\n",
            "main.main()\\n",
            "\\t/src/app/main.go:12 +0x1\\n",
        ];
        let text: String = lines
            .iter()
            .map(|l| {
                format!(
                    "{{\"log\":\"{l}\",\"stream\":\"stderr\",\"time\":\"2024-05-01T10:00:00Z\"}}\n"
                )
            })
            .collect();
        let s = read(&text);
        assert_eq!(s.goroutines.len(), 2);
        assert_eq!(funcs(&s, 0), [PLAIN[0]]);
        assert!(
            first_warning(&s).contains("(field `\"log\":\"`)"),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn r_a_wrapped_dump_past_the_head_of_a_file_is_found() {
        // A journal with 100 KiB of other messages before the dump.
        let p = "Jul 08 11:45:46 web-3 app[24486]: ";
        let mut text = String::new();
        while text.len() < 100 << 10 {
            text.push_str(&format!(
                "{p}level=info msg=\"request served\" status=200\n"
            ));
        }
        text.push_str(&format!(
            "{p}goroutine 7 [chan receive, 12 minutes]:\n{p}main.worker(0xc000012345)\n{p}\t/src/app/main.go:30 +0x25\n"
        ));
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
        let s = crate::parse::parse_path(file.path().to_str().unwrap(), &Options::default())
            .expect("the dump is found");
        assert_eq!(s.goroutines.len(), 1);
        assert_eq!(funcs(&s, 0), [PLAIN[0]]);
        assert!(first_warning(&s).starts_with("each line of the dump carries a log prefix"));
    }

    #[test]
    fn mentions_of_goroutines_in_prose_are_not_a_wrapping() {
        assert_eq!(
            detect(b"level=warn msg=stuck goroutine 5 [select] for 3m\nnext line\n"),
            None
        );
        assert_eq!(
            detect(b"see goroutine 5 [select]:\nand then nothing\n"),
            None
        );
        assert_eq!(detect(b"x=\"goroutine 5 [select]: waiting\"\n"), None);
    }

    #[test]
    fn unescape_decodes_json_and_go_escapes() {
        let mut out = Vec::new();
        unescape(br#"a\tb\r\nc\"d\\e\/f\u003cg\u00e9\qh\"#, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\tb\nc\"d\\e/f<g\u{e9}\\qh\\"
        );
    }
}
