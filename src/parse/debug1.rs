//! The debug=1 count format: `goroutine profile: total N` (pprof `?debug=1`) and
//! `goroutineleak profile: total N`.
//!
//! Grammar (one record per unique stack and label set):
//!
//! ```text
//! NAME " profile: total " N
//! COUNT " @" (" 0x" HEX)+
//! ["# labels: {" "\"k\":\"v\"" (", " …)* "}"]
//! ("#" TAB "0x" HEX TAB+ FUNC "+0x" HEX TAB+ FILE ":" LINE  |  "#" TAB "0x" HEX)*
//! (blank line)
//! ```
//!
//! Columns are padded with runs of tabs; copy-paste may have turned them into spaces, so
//! columns are found by shape (`+0x…` ends the function, `:LINE` ends the file) rather
//! than by counting separators. Records carry no goroutine state.

use std::io::BufRead;

use super::{Options, ParseError};
use crate::model::{Format, Frame, Labels, Record, Snapshot, SnapshotBuilder, Stack, State};

const HEADER_GOROUTINE: &str = "goroutine profile: total ";
const HEADER_LEAK: &str = "goroutineleak profile: total ";

/// `Some(true)` when a line of the head is a debug=1 header. Lines before it (the command
/// or URL that fetched the profile, a shell prompt) are allowed, unless one of them is a
/// goroutine header of a traceback dump, whose parser then owns the input.
pub fn sniff(head: &[u8]) -> Option<bool> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let mut rest = head;
    loop {
        let end = rest.iter().position(|&b| b == b'\n');
        let line = &rest[..end.unwrap_or(rest.len())];
        let t = trim_start(line);
        for h in [HEADER_GOROUTINE, HEADER_LEAK] {
            if t.starts_with(h.as_bytes()) {
                return Some(true);
            }
            if end.is_none() && !t.is_empty() && h.as_bytes().starts_with(t) {
                return None;
            }
        }
        if crate::parse::traceback::is_header_line(t) {
            return Some(false);
        }
        match end {
            Some(e) => rest = &rest[e + 1..],
            None => return Some(false),
        }
    }
}

fn trim_start(line: &[u8]) -> &[u8] {
    let n = line.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &line[n..]
}

/// Reads a debug=1 profile.
pub fn parse(
    input: Box<dyn BufRead + Send>,
    source: &str,
    opts: &Options,
) -> Result<Snapshot, ParseError> {
    let mut lines = Lines::new(input, source);
    let mut p: Option<Parser> = None;
    // Lines before the header: how many, and the first, for the warning or the error.
    let mut before: (u64, Option<String>) = (0, None);
    while let Some(line) = lines.next_line()? {
        let n = lines.number;
        match &mut p {
            None => {
                let t = line.trim_start_matches('\u{feff}').trim();
                if t.is_empty() {
                    continue;
                }
                let (format, rest) = if let Some(r) = t.strip_prefix(HEADER_GOROUTINE) {
                    (Format::Debug1, r)
                } else if let Some(r) = t.strip_prefix(HEADER_LEAK) {
                    (Format::LeakDebug1, r)
                } else {
                    before.0 += 1;
                    before.1.get_or_insert_with(|| clip(t).to_string());
                    continue;
                };
                let mut b = SnapshotBuilder::new(source, format).with_args_budget(opts.args_budget);
                if let (skipped @ 1.., Some(first)) = (before.0, &before.1) {
                    let what = match skipped {
                        1 => format!("the line before its header ({first:?}) is"),
                        n => format!("the {n} lines before its header (the first: {first:?}) are"),
                    };
                    warn(
                        &mut b,
                        n,
                        format!("the profile starts here; {what} not part of it and skipped"),
                    );
                }
                match rest.trim().parse::<u64>() {
                    Ok(total) => b.snap().declared_total = Some(total),
                    Err(_) => warn(&mut b, n, format!("the total {:?} is not a number", rest)),
                }
                p = Some(Parser::new(b));
            }
            Some(_) if lines.cut && !is_complete_frame(&line) => {
                // The last line of a cut input: a partial frame would name the wrong
                // function, so it is left out (the warning below says why).
            }
            Some(p) => p.line(&line, n),
        }
    }
    let Some(mut p) = p else {
        return Err(ParseError::NotEvidence {
            source_name: source.into(),
            found: match before.1 {
                Some(first) => format!("text whose first line is {first:?} and no profile header"),
                None => "the input is empty".into(),
            },
            expected: "a `goroutine profile: total N` (debug=1) profile",
        });
    };
    if lines.cut {
        warn(
            &mut p.b,
            lines.number,
            "the input ends in the middle of a line: it was probably cut short".into(),
        );
    }
    p.flush_at_end();
    Ok(p.finish())
}

/// A record being read.
struct Pending {
    line: u64,
    count: i64,
    labels: Labels,
    frames: Vec<Frame>,
    /// Entry address of each frame's physical function (PC − offset), when printed.
    entries: Vec<Option<u64>>,
}

struct Parser {
    b: SnapshotBuilder,
    rec: Option<Pending>,
    sum: i64,
}

impl Parser {
    fn new(b: SnapshotBuilder) -> Self {
        Parser {
            b,
            rec: None,
            sum: 0,
        }
    }

    fn line(&mut self, line: &str, n: u64) {
        let t = line.trim();
        if t.is_empty() {
            self.flush();
            return;
        }
        if let Some(rest) = t.strip_prefix('#') {
            let rest = rest.trim_start();
            if let Some(l) = rest.strip_prefix("labels:") {
                self.labels(l.trim(), n);
            } else if rest.starts_with("0x") {
                self.frame(rest, n);
            } else {
                warn(&mut self.b, n, format!("not a frame line: {:?}", clip(t)));
            }
            return;
        }
        if let Some((count, pcs)) = t.split_once('@') {
            if let Ok(count) = count.trim().parse::<i64>() {
                if pcs.split_whitespace().all(|w| w.starts_with("0x")) {
                    self.flush();
                    self.rec = Some(Pending {
                        line: n,
                        count,
                        labels: Vec::new(),
                        frames: Vec::new(),
                        entries: Vec::new(),
                    });
                    return;
                }
            }
        }
        if t.starts_with(HEADER_GOROUTINE) || t.starts_with(HEADER_LEAK) {
            self.flush();
            warn(
                &mut self.b,
                n,
                "a second profile starts here; its records are read into the first one".into(),
            );
            return;
        }
        warn(
            &mut self.b,
            n,
            format!("not part of a debug=1 profile, skipped: {:?}", clip(t)),
        );
    }

    fn labels(&mut self, text: &str, n: u64) {
        let Some(rec) = &mut self.rec else {
            warn(&mut self.b, n, "labels outside a record, skipped".into());
            return;
        };
        match parse_label_map(text) {
            Some(l) => rec.labels = l,
            None => warn(
                &mut self.b,
                n,
                format!(
                    "labels not in the form {{\"key\":\"value\", …}}: {:?}",
                    clip(text)
                ),
            ),
        }
    }

    fn frame(&mut self, text: &str, n: u64) {
        let Some(rec) = &mut self.rec else {
            warn(
                &mut self.b,
                n,
                "frame line outside a record, skipped".into(),
            );
            return;
        };
        let (pc, rest) = match text.find(char::is_whitespace) {
            Some(i) => (&text[..i], text[i..].trim()),
            None => (text, ""),
        };
        if rest.is_empty() {
            // `#\t0xPC`: a frame the runtime could not symbolize.
            let f = self.b.frame(pc, "", 0, false);
            rec.frames.push(f);
            rec.entries.push(None);
            return;
        }
        let Some(fl) = split_frame(rest) else {
            warn(
                &mut self.b,
                n,
                format!("frame line without FUNC+0xOFF FILE:LINE: {:?}", clip(text)),
            );
            return;
        };
        let entry = parse_hex(pc).and_then(|pc| fl.offset.and_then(|o| pc.checked_sub(o)));
        let f = self.b.frame(fl.function, fl.file, fl.line, false);
        rec.frames.push(f);
        rec.entries.push(entry);
    }

    /// Ends the record in progress at the end of the input: a record with no frame line
    /// there was cut short.
    fn flush_at_end(&mut self) {
        if self.rec.as_ref().is_some_and(|r| r.frames.is_empty()) {
            self.flush_record(true);
        } else {
            self.flush_record(false);
        }
    }

    /// Ends the record in progress. A complete record may have no frame line: the runtime
    /// hides `runtime.goexit`, so a goroutine that has not started yet prints `1 @ 0x…` and
    /// nothing more. It is counted, with an empty stack.
    fn flush(&mut self) {
        self.flush_record(false);
    }

    fn flush_record(&mut self, cut: bool) {
        let Some(mut rec) = self.rec.take() else {
            return;
        };
        if rec.frames.is_empty() && cut {
            warn(
                &mut self.b,
                rec.line,
                format!(
                    "record of {} goroutines has no frame lines (input cut short?); not counted",
                    rec.count
                ),
            );
            return;
        }
        mark_inlined(&mut rec.frames, &rec.entries);
        self.sum = self.sum.saturating_add(rec.count);
        let stack = self.b.stack(Stack {
            frames: rec.frames,
            elided: None,
        });
        let labels = self.b.labels(rec.labels);
        self.b.snap().records.push(Record {
            stack,
            count: rec.count,
            labels,
        });
    }

    fn finish(mut self) -> Snapshot {
        self.b.state(State::unknown());
        if let Some(total) = self.b.snap().declared_total {
            if total as i64 != self.sum {
                let msg = format!(
                    "the profile declares {total} goroutines but its records add up to {}: it may be cut short or hand-edited",
                    self.sum
                );
                self.b.snap().warnings.push(crate::model::Warning {
                    line: None,
                    message: msg,
                });
            }
        }
        self.b.finish()
    }
}

/// True for a symbolized frame line that ends in `FILE:LINE`.
fn is_complete_frame(line: &str) -> bool {
    let t = line.trim();
    t.strip_prefix('#')
        .map(str::trim_start)
        .and_then(|r| r.split_once(char::is_whitespace))
        .and_then(|(_, rest)| split_frame(rest.trim()))
        .is_some_and(|f| f.line > 0)
}

/// Frame `i` is inlined into frame `i + 1` when both offsets count from the same physical
/// function entry (debug=1 prints offsets from the physical function even for inlined
/// frames). A function cannot be inlined into itself, so equal names are recursion.
fn mark_inlined(frames: &mut [Frame], entries: &[Option<u64>]) {
    for i in 0..frames.len().saturating_sub(1) {
        if let (Some(a), Some(b)) = (entries[i], entries[i + 1]) {
            if a == b && frames[i].function != frames[i + 1].function {
                frames[i].inlined = true;
            }
        }
    }
}

/// The columns of a symbolized frame line after its PC.
#[derive(Debug, PartialEq)]
struct FrameLine<'a> {
    function: &'a str,
    offset: Option<u64>,
    file: &'a str,
    line: u32,
}

/// Splits `FUNC+0xOFF<ws>FILE:LINE`. The function ends at the first `+0xHEX` followed by
/// whitespace, so function names and paths may both contain spaces.
fn split_frame(rest: &str) -> Option<FrameLine<'_>> {
    let bytes = rest.as_bytes();
    let mut from = 0;
    while let Some(i) = rest[from..].find("+0x").map(|i| i + from) {
        let hex_start = i + 3;
        let hex_end = bytes[hex_start..]
            .iter()
            .position(|b| !b.is_ascii_hexdigit())
            .map_or(bytes.len(), |j| j + hex_start);
        if hex_end > hex_start && (hex_end == bytes.len() || bytes[hex_end].is_ascii_whitespace()) {
            let function = rest[..i].trim_end();
            let offset = u64::from_str_radix(&rest[hex_start..hex_end], 16).ok();
            let (file, line) = split_file_line(rest[hex_end..].trim());
            return Some(FrameLine {
                function,
                offset,
                file,
                line,
            });
        }
        from = hex_start;
    }
    // No offset: tab-separated `FUNC<TAB>FILE:LINE`, or a lone function name.
    if let Some((f, rest)) = rest.split_once('\t') {
        let (file, line) = split_file_line(rest.trim());
        return Some(FrameLine {
            function: f.trim(),
            offset: None,
            file,
            line,
        });
    }
    None
}

/// `FILE:LINE` split at the last colon; a missing or non-numeric line gives line 0 and the
/// whole text as the file.
pub(crate) fn split_file_line(s: &str) -> (&str, u32) {
    if let Some((file, line)) = s.rsplit_once(':') {
        if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) {
            return (file, line.parse().unwrap_or(u32::MAX));
        }
    }
    (s, 0)
}

fn parse_hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// Parses `{"k":"v", "k2":"v2"}` with Go `strconv` quoting.
fn parse_label_map(text: &str) -> Option<Labels> {
    let mut s = text.trim().strip_prefix('{')?.trim_start();
    let mut out = Vec::new();
    loop {
        if let Some(rest) = s.strip_prefix('}') {
            return rest.trim().is_empty().then_some(out);
        }
        let (k, rest) = unquote_prefix(s)?;
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        let (v, rest) = unquote_prefix(rest)?;
        out.push((k.into_boxed_str(), v.into_boxed_str()));
        let rest = rest.trim_start();
        s = match rest.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None => rest,
        };
    }
}

/// Reads one Go double-quoted string literal at the start of `s` (as `strconv.Quote`
/// writes it) and returns its value and the text after it. Escapes that produce invalid
/// UTF-8 (`\xff`) are replaced by U+FFFD.
pub(crate) fn unquote_prefix(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let value = String::from_utf8_lossy(&out).into_owned();
                return Some((value, &body[i + 1..]));
            }
            '\\' => {
                let (_, e) = chars.next()?;
                let simple = match e {
                    'a' => Some(0x07),
                    'b' => Some(0x08),
                    'f' => Some(0x0c),
                    'n' => Some(b'\n'),
                    'r' => Some(b'\r'),
                    't' => Some(b'\t'),
                    'v' => Some(0x0b),
                    '\\' => Some(b'\\'),
                    '"' => Some(b'"'),
                    '\'' => Some(b'\''),
                    _ => None,
                };
                if let Some(b) = simple {
                    out.push(b);
                    continue;
                }
                let digits = |chars: &mut std::str::CharIndices, n: usize, radix: u32| {
                    let mut v: u32 = 0;
                    for _ in 0..n {
                        let (_, d) = chars.next()?;
                        v = v.checked_mul(radix)?.checked_add(d.to_digit(radix)?)?;
                    }
                    Some(v)
                };
                match e {
                    'x' => out.push(u8::try_from(digits(&mut chars, 2, 16)?).ok()?),
                    'u' | 'U' => {
                        let v = digits(&mut chars, if e == 'u' { 4 } else { 8 }, 16)?;
                        let c = char::from_u32(v).unwrap_or('\u{fffd}');
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                    '0'..='7' => {
                        let rest = digits(&mut chars, 2, 8)?;
                        let v = (e as u32 - '0' as u32) * 64 + rest;
                        out.push(u8::try_from(v).ok()?);
                    }
                    _ => return None,
                }
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    None
}

fn warn(b: &mut SnapshotBuilder, line: u64, message: String) {
    b.snap().warnings.push(crate::model::Warning {
        line: Some(line),
        message,
    });
}

/// At most 120 characters of `s`, for messages.
pub(crate) fn clip(s: &str) -> &str {
    match s.char_indices().nth(120) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Numbered lines of a text input: CRLF and LF endings, invalid UTF-8 replaced, no limit
/// on line length. Shared by the line-oriented aggregated formats.
pub(crate) struct Lines<'a> {
    input: Box<dyn BufRead + Send>,
    source: &'a str,
    buf: Vec<u8>,
    /// 1-based number of the line last returned.
    pub number: u64,
    /// True when the last line had no newline (the input may be cut short).
    pub cut: bool,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(input: Box<dyn BufRead + Send>, source: &'a str) -> Self {
        Lines {
            input,
            source,
            buf: Vec::new(),
            number: 0,
            cut: false,
        }
    }

    /// The next line without its ending, or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> Result<Option<String>, ParseError> {
        self.buf.clear();
        let n = self
            .input
            .read_until(b'\n', &mut self.buf)
            .map_err(|error| ParseError::Io {
                source_name: self.source.to_string(),
                error,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        } else {
            self.cut = true;
        }
        Ok(Some(String::from_utf8_lossy(&self.buf).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Snapshot {
        parse(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            "t.txt",
            &Options::default(),
        )
        .expect("parses")
    }

    #[test]
    fn r_goexit_only_record_is_counted_without_warning() {
        // Hand-written after real Go 1.26 output: a goroutine that has not started yet has
        // only `runtime.goexit`, which debug=1 hides, so its record has no `#` line.
        let s = read(
            "goroutine profile: total 2\n1 @ 0x489e2e 0x6f2eb7\n#\t0x6f2eb6\tmain.main+0x576\t/x/main.go:78\n\n1 @ 0x4916a1\n\n",
        );
        assert_eq!(s.goroutine_count(), 2);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let cut = read(
            "goroutine profile: total 2\n1 @ 0x489e2e 0x6f2eb7\n#\t0x6f2eb6\tmain.main+0x576\t/x/main.go:78\n\n1 @ 0x4916a1\n",
        );
        assert_eq!(cut.goroutine_count(), 1);
        assert!(
            cut.warnings.iter().any(|w| w.message.contains("cut short")),
            "{:?}",
            cut.warnings
        );
    }

    fn funcs(s: &Snapshot, rec: usize) -> Vec<String> {
        s.stacks[s.records[rec].stack as usize]
            .frames
            .iter()
            .map(|f| f.function.to_string())
            .collect()
    }

    // Hand-written, following the layout of the runtime's tabwriter output.
    const BASIC: &str = "goroutine profile: total 4\n\
3 @ 0x486daa 0x4176ce 0x417212 0x526305 0x48d481\n\
# labels: {\"handler\":\"/api/v1\", \"user id\":\"a b\\\"c\"}\n\
#\t0x526304\tmain.main.func15.1+0x24\t/src/zoo/main.go:109\n\
\n\
1 @ 0x446231 0x5258c5 0x450587 0x48d481\n\
#\t0x5258c4\tmain.main+0xa44\t\t\t\t/src/zoo/main.go:121\n\
#\t0x450586\truntime.main+0x426\t\t\t/usr/lib/go/src/runtime/proc.go:302\n\
\n";

    #[test]
    fn sniffs_both_headers_and_rejects_others() {
        assert_eq!(sniff(b"goroutine profile: total 3\n"), Some(true));
        assert_eq!(sniff(b"\r\n goroutineleak profile: total 1\n"), Some(true));
        assert_eq!(sniff(b"goroutine 1 [running]:\n"), Some(false));
        assert_eq!(sniff(b"gorout"), None);
        assert_eq!(sniff(b"File: srv\n"), Some(false));
    }

    #[test]
    fn r_lines_before_the_header_are_skipped_with_a_warning() {
        // Hand-written: what `curl -v` or an admin tool prints before the profile it fetched.
        let head = "Querying introspection socket: /debug/pprof/goroutine?debug=1\n$ curl x\n\n";
        assert_eq!(sniff(format!("{head}{BASIC}").as_bytes()), Some(true));
        let s = crate::parse::parse_reader(
            Box::new(std::io::Cursor::new(format!("{head}{BASIC}").into_bytes())),
            "t.txt",
            &Options::default(),
        )
        .expect("parses");
        assert_eq!(s.format, Some(Format::Debug1));
        assert_eq!(s.goroutine_count(), 4);
        assert_eq!(s.records.len(), read(BASIC).records.len());
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert_eq!(s.warnings[0].line, Some(4));
        assert!(
            s.warnings[0].message.contains(
                "the 2 lines before its header (the first: \"Querying introspection socket: /debug/pprof/goroutine?debug=1\") are not part of it and skipped"
            ),
            "{:?}",
            s.warnings
        );
        // A traceback dump that quotes a debug=1 header later stays a traceback dump.
        assert_eq!(
            sniff(b"goroutine 1 [running]:\nmain.main()\n\nlog: goroutine profile: total 3\n"),
            Some(false)
        );
    }

    #[test]
    fn r_no_header_at_all_names_the_first_line() {
        let e = parse(
            Box::new(std::io::Cursor::new(b"hello\nworld\n".to_vec())),
            "t.txt",
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("t.txt: text whose first line is \"hello\" and no profile header; expected a `goroutine profile: total N`"), "{e}");
    }

    #[test]
    fn reads_records_counts_labels_and_frames() {
        let s = read(BASIC);
        assert_eq!(s.format, Some(Format::Debug1));
        assert_eq!(s.declared_total, Some(4));
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[0].count, 3);
        assert_eq!(
            s.labels(s.records[0].labels),
            &vec![
                ("handler".into(), "/api/v1".into()),
                ("user id".into(), "a b\"c".into())
            ]
        );
        assert_eq!(funcs(&s, 1), ["main.main", "runtime.main"]);
        let f = &s.stacks[s.records[1].stack as usize].frames[1];
        assert_eq!(&*f.file, "/usr/lib/go/src/runtime/proc.go");
        assert_eq!(f.line, 302);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        assert_eq!(s.goroutine_count(), 4);
    }

    #[test]
    fn leak_header_sets_leak_format() {
        // Hand-written.
        let s = read(
            "goroutineleak profile: total 1\n1 @ 0x48c12a 0x680b45\n# labels: {\"worker\":\"w1\"}\n#\t0x680b44\tmain.main.func1.1+0x24\t/src/srv/main.go:30\n",
        );
        assert_eq!(s.format, Some(Format::LeakDebug1));
        assert_eq!(s.records.len(), 1);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn r_tabs_turned_into_spaces_and_crlf() {
        let spaced = BASIC.replace('\t', "    ").replace('\n', "\r\n");
        let s = read(&spaced);
        assert_eq!(s.records.len(), 2);
        assert_eq!(funcs(&s, 1), ["main.main", "runtime.main"]);
        let f = &s.stacks[s.records[1].stack as usize].frames[0];
        assert_eq!((&*f.file, f.line), ("/src/zoo/main.go", 121));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn r_path_with_spaces_and_drive_letter() {
        // Hand-written: a Windows path after space-converted tabs.
        let s = read(
            "goroutine profile: total 1\n1 @ 0x1\n#    0x10    main.run+0x5    C:/Program Files/app/main.go:7\n",
        );
        let f = &s.stacks[0].frames[0];
        assert_eq!(&*f.function, "main.run");
        assert_eq!((&*f.file, f.line), ("C:/Program Files/app/main.go", 7));
    }

    #[test]
    fn unsymbolized_frame_keeps_pc() {
        let s = read("goroutine profile: total 1\n1 @ 0x4a3b2d\n#\t0x4a3b2c\n");
        let f = &s.stacks[0].frames[0];
        assert_eq!((&*f.function, &*f.file, f.line), ("0x4a3b2c", "", 0));
    }

    #[test]
    fn malformed_line_is_a_warning_with_its_number() {
        let text = BASIC.replace("#\t0x5258c4", "garbage here\n#\t0x5258c4");
        let s = read(&text);
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.warnings.len(), 1);
        assert_eq!(s.warnings[0].line, Some(7));
    }

    #[test]
    fn truncated_input_warns_and_keeps_complete_records() {
        let cut = &BASIC[..BASIC.find("#\t0x5258c4").expect("present") + 5];
        let s = read(cut);
        assert_eq!(s.records.len(), 1, "the cut record has no usable frame");
        let msgs: Vec<_> = s.warnings.iter().map(|w| w.message.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("cut short")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("declares 4")), "{msgs:?}");
    }

    #[test]
    fn total_mismatch_warns() {
        let s = read(&BASIC.replace("total 4", "total 9"));
        assert!(s.warnings.iter().any(|w| w.message.contains("add up to 4")));
    }

    #[test]
    fn inlined_frames_share_the_physical_entry() {
        // Hand-written from real 1.26 output: recvInline was inlined into callsInlined.
        let s = read(
            "goroutine profile: total 5\n5 @ 0x489ace 0x6a88c5 0x6a88c6 0x491221\n\
#\t0x6a88c4\tmain.recvInline+0x24\t/src/main.go:34\n\
#\t0x6a88c5\tmain.callsInlined+0x25\t/src/main.go:37\n\
#\t0x6a8a04\tmain.other+0x24\t/src/main.go:51\n",
        );
        let inl: Vec<bool> = s.stacks[0].frames.iter().map(|f| f.inlined).collect();
        assert_eq!(inl, [true, false, false]);
    }

    #[test]
    fn unquotes_go_escapes() {
        let (v, rest) = unquote_prefix(r#""a\tb\u00e9\x41\101\\\"z" tail"#).expect("quoted");
        assert_eq!(v, "a\tbéAA\\\"z");
        assert_eq!(rest, " tail");
        assert!(unquote_prefix(r#""unterminated"#).is_none());
        assert!(unquote_prefix(r#""bad \q""#).is_none());
        let l = parse_label_map(r#"{"k:}":"v, {", "e":""}"#).expect("labels");
        assert_eq!(l.len(), 2);
        assert_eq!(&*l[0].0, "k:}");
        assert_eq!(&*l[0].1, "v, {");
    }
}
