//! `go tool pprof -traces` output of a goroutine profile.
//!
//! ```text
//! File: srv                                  header lines, until the first separator
//! Type: goroutine
//! Time: 2026-11-22 02:40:22 UTC
//! -----------+-------------------------------------------------------
//!    handler:  /api/v1                       labels, "%10s:  %s"
//!          3   runtime.gopark                count on the first frame, "%10s   %s"
//!              runtime.chanrecv (inline)     further frames; " (inline)" for inlined
//! -----------+-------------------------------------------------------
//! ```
//!
//! Variants: `-lines` appends ` FILE:LINE[:COL]` to each frame, `-addresses` prefixes a
//! 16-digit address; unsymbolized frames print as `<unknown>` or `[binary]`. Samples keep
//! the profile's order, one block each.

use std::io::BufRead;

use super::debug1::{Lines, clip, split_file_line};
use super::{Options, ParseError};
use crate::model::{
    Format, Frame, Labels, Record, Snapshot, SnapshotBuilder, Stack, State, Warning,
};

const SEPARATOR: &str = "-----------+";

/// Header keys printed before the first separator.
const HEADER_KEYS: &[&str] = &[
    "File:",
    "Build ID:",
    "Type:",
    "Time:",
    "Duration:",
    "Doc:",
    "Comment:",
    "Showing nodes",
    "Dropped",
];

fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.starts_with(SEPARATOR) && t[SEPARATOR.len()..].bytes().all(|b| b == b'-')
}

/// `Some(true)` when the head starts with pprof header lines (or a separator) and holds a
/// separator line.
pub fn sniff(head: &[u8]) -> Option<bool> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines().map(str::trim_end).filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return Some(false);
    };
    let first = first.trim_start_matches('\u{feff}');
    if is_separator(first) {
        return Some(true);
    }
    if !HEADER_KEYS.iter().any(|k| first.starts_with(k)) {
        return Some(false);
    }
    for l in lines.take(64) {
        if is_separator(l) {
            return Some(true);
        }
    }
    if head.len() < super::HEAD_LEN && text.ends_with('\n') {
        Some(false)
    } else {
        None
    }
}

/// Reads `-traces` output.
pub fn parse(
    input: Box<dyn BufRead + Send>,
    source: &str,
    opts: &Options,
) -> Result<Snapshot, ParseError> {
    let mut b = SnapshotBuilder::new(source, Format::Traces).with_args_budget(opts.args_budget);
    b.state(State::unknown());
    let mut lines = Lines::new(input, source);
    let mut in_header = true;
    let mut saw_separator = false;
    let mut block: Option<Block> = None;
    let mut delta = false;
    let mut sum: i64 = 0;
    while let Some(line) = lines.next_line()? {
        let n = lines.number;
        if is_separator(&line) {
            if let Some(bl) = block.take() {
                sum = sum.saturating_add(bl.finish(&mut b));
            }
            saw_separator = true;
            in_header = false;
            block = Some(Block::new(n));
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if in_header {
            header_line(&mut b, &line, n, &mut delta);
            continue;
        }
        if let Some(bl) = &mut block {
            bl.line(&mut b, &line, n);
        }
    }
    if !saw_separator {
        return Err(ParseError::NotEvidence {
            source_name: source.into(),
            found: "pprof header lines without any sample block".into(),
            expected: "`go tool pprof -traces` output",
        });
    }
    if let Some(bl) = block.take() {
        if !bl.is_empty() {
            b.snap().warnings.push(Warning {
                line: Some(lines.number),
                message:
                    "the output ends without its closing separator line: it was probably cut short"
                        .into(),
            });
            sum = sum.saturating_add(bl.finish(&mut b));
        }
    }
    if !delta {
        b.snap().declared_total = u64::try_from(sum).ok();
    }
    Ok(b.finish())
}

fn header_line(b: &mut SnapshotBuilder, line: &str, n: u64, delta: &mut bool) {
    let t = line.trim();
    if let Some(ty) = t.strip_prefix("Type:") {
        let ty = ty.trim();
        if ty == "goroutineleak" {
            b.snap().preamble.push("profile type: goroutineleak".into());
        } else if ty != "goroutine" {
            b.snap().warnings.push(Warning {
                line: Some(n),
                message: format!(
                    "the profile type is {ty:?}, not goroutine: counts may not be goroutines"
                ),
            });
        }
    } else if let Some(time) = t.strip_prefix("Time:") {
        match parse_time(time.trim()) {
            Some(ts) => b.snap().taken_at = Some(ts),
            None => b.snap().warnings.push(Warning {
                line: Some(n),
                message: format!(
                    "time {:?} is not in a zone hangdoc can convert (print it with TZ=UTC); the time is left unknown",
                    time.trim()
                ),
            }),
        }
    } else if t.starts_with("Duration:") {
        *delta = true;
    }
    // Other header and comment lines carry nothing the model keeps.
}

/// One sample block being read.
struct Block {
    line: u64,
    labels: Labels,
    count: Option<i64>,
    frames: Vec<Frame>,
}

impl Block {
    fn new(line: u64) -> Self {
        Block {
            line,
            labels: Vec::new(),
            count: None,
            frames: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.count.is_none() && self.labels.is_empty()
    }

    fn line(&mut self, b: &mut SnapshotBuilder, line: &str, n: u64) {
        let t = line.trim_start();
        if self.count.is_none() {
            if let Some((count, frame)) = count_line(t) {
                match count.parse::<i64>() {
                    Ok(c) => self.count = Some(c),
                    Err(_) => {
                        warn(b, n, format!("the count {count:?} is not a whole number"));
                        self.count = Some(0);
                    }
                }
                self.frame(b, frame);
                return;
            }
            if let Some((k, v)) = t.split_once(":  ") {
                self.labels.push((k.trim().into(), v.trim_end().into()));
                return;
            }
            if let Some(k) = t.trim_end().strip_suffix(':') {
                // An empty value whose padding an editor trimmed.
                self.labels.push((k.trim().into(), "".into()));
                return;
            }
            warn(b, n, format!("not a label or count line: {:?}", clip(t)));
            return;
        }
        self.frame(b, t.trim_end());
    }

    fn frame(&mut self, b: &mut SnapshotBuilder, text: &str) {
        let (text, inlined) = match text.strip_suffix(" (inline)") {
            Some(t) => (t, true),
            None => (text, false),
        };
        let (addr, text) = strip_address(text);
        let (name, file, line) = split_name_file(text);
        if name == "runtime.goexit" {
            return;
        }
        let name = match (name.is_empty(), addr) {
            (true, Some(a)) => a.to_string(),
            _ => name.to_string(),
        };
        let f = b.frame(&name, file, line, inlined);
        self.frames.push(f);
    }

    /// Adds the record; returns its count.
    fn finish(self, b: &mut SnapshotBuilder) -> i64 {
        if self.is_empty() {
            return 0;
        }
        let Some(count) = self.count else {
            warn(
                b,
                self.line,
                "sample block has labels but no count line; skipped".into(),
            );
            return 0;
        };
        let stack = b.stack(Stack {
            frames: self.frames,
            elided: None,
        });
        let labels = b.labels(self.labels);
        b.snap().records.push(Record {
            stack,
            count,
            labels,
        });
        count
    }
}

/// `COUNT   FRAME`: a token of no spaces, then three spaces. Label lines have `:  ` instead.
fn count_line(t: &str) -> Option<(&str, &str)> {
    let end = t.find(' ')?;
    let (count, rest) = t.split_at(end);
    let frame = rest.strip_prefix("   ")?;
    if count.ends_with(':') || !count.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return None;
    }
    Some((count, frame.trim_start()))
}

/// Strips a `-addresses` prefix (16 hex digits and a space).
fn strip_address(t: &str) -> (Option<&str>, &str) {
    let b = t.as_bytes();
    if b.len() >= 16
        && b[..16].iter().all(u8::is_ascii_hexdigit)
        && (b.len() == 16 || b[16] == b' ')
    {
        (Some(&t[..16]), t[16..].trim_start())
    } else {
        (None, t)
    }
}

/// Splits a `-lines` frame `NAME FILE:LINE[:COL]`; a plain name gives no file.
///
/// Names may hold spaces only inside generic brackets, so the split is at the first space
/// outside brackets whose remainder looks like `FILE:LINE`; names with unbalanced brackets
/// fall back to the last space before a `…:LINE` token.
fn split_name_file(t: &str) -> (&str, &str, u32) {
    let mut depth: i32 = 0;
    for (i, c) in t.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ' ' if depth == 0 => {
                if let Some((file, line)) = file_line(&t[i + 1..]) {
                    return (&t[..i], file, line);
                }
            }
            _ => {}
        }
    }
    if let Some(i) = t.rfind(' ') {
        if let Some((file, line)) = file_line(&t[i + 1..]) {
            return (&t[..i], file, line);
        }
    }
    (t, "", 0)
}

/// `FILE:LINE` or `FILE:LINE:COL`.
fn file_line(s: &str) -> Option<(&str, u32)> {
    let (mut file, mut line) = split_file_line(s);
    if line == 0 {
        return None;
    }
    // A column follows the line: `main.go:28:5` split once gives (`main.go:28`, 5).
    let (f2, l2) = split_file_line(file);
    if l2 > 0 {
        (file, line) = (f2, l2);
    }
    (!file.is_empty()).then_some((file, line))
}

/// Parses `2006-01-02 15:04:05 MST` as seconds since the epoch: UTC, GMT, numeric offsets
/// (`+0530`, `-07`) and a missing zone (taken as UTC) are understood; other zone names are
/// ambiguous and give `None`.
fn parse_time(s: &str) -> Option<f64> {
    let mut parts = s.split_whitespace();
    let date = parts.next()?;
    let time = parts.next()?;
    let zone = parts.next();
    let num = |x: &str| -> Option<i64> {
        (!x.is_empty() && x.len() <= 4 && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse().ok())
            .flatten()
    };
    let mut d = date.split('-').map(num);
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(num);
    let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h >= 24 || mi >= 60 || se > 60 {
        return None;
    }
    let offset = match zone {
        None | Some("UTC" | "GMT" | "Z") => 0,
        Some(z) => {
            let (sign, digits) = match z.as_bytes().first()? {
                b'+' => (1, &z[1..]),
                b'-' => (-1, &z[1..]),
                _ => return None,
            };
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let (hh, mm) = match digits.len() {
                2 => (digits.parse::<i64>().ok()?, 0),
                4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
                _ => return None,
            };
            sign * (hh * 3600 + mm * 60)
        }
    };
    let days = days_from_civil(y, mo, da);
    Some((days * 86400 - offset + h * 3600 + mi * 60 + se) as f64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn warn(b: &mut SnapshotBuilder, line: u64, message: String) {
    b.snap().warnings.push(Warning {
        line: Some(line),
        message,
    });
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

    fn frames(s: &Snapshot, rec: usize) -> Vec<(String, String, u32, bool)> {
        s.stacks[s.records[rec].stack as usize]
            .frames
            .iter()
            .map(|f| {
                (
                    f.function.to_string(),
                    f.file.to_string(),
                    f.line,
                    f.inlined,
                )
            })
            .collect()
    }

    const SEP: &str = "-----------+-------------------------------------------------------";

    // Hand-written in the layout of the report writer.
    fn basic() -> String {
        [
            "File: srv",
            "Build ID: 02aa02c0",
            "Type: goroutine",
            "Time: 2026-11-22 02:40:22 UTC",
            SEP,
            "   handler:  /api/v1",
            "   user id:  a b\"c",
            "     empty:",
            "         3   runtime.gopark",
            "             runtime.chanrecv",
            "             internal/poll.(*pollDesc).waitRead (inline)",
            "             main.serve",
            SEP,
            "         1   runtime.gopark",
            "             runtime.goexit",
            SEP,
            "",
        ]
        .join("\n")
    }

    #[test]
    fn sniffs_header_and_separator() {
        assert_eq!(sniff(basic().as_bytes()), Some(true));
        assert_eq!(sniff(b"File: srv\nType: goroutine\n"), Some(false));
        assert_eq!(sniff(b"goroutine profile: total 1\n"), Some(false));
        assert_eq!(sniff(format!("{SEP}\n").as_bytes()), Some(true));
    }

    #[test]
    fn reads_blocks_labels_counts_and_inline_marks() {
        let s = read(&basic());
        assert_eq!(s.format, Some(Format::Traces));
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[0].count, 3);
        assert_eq!(
            s.labels(s.records[0].labels),
            &vec![
                ("empty".into(), "".into()),
                ("handler".into(), "/api/v1".into()),
                ("user id".into(), "a b\"c".into())
            ]
        );
        let f = frames(&s, 0);
        assert_eq!(f.len(), 4);
        assert_eq!(f[2].0, "internal/poll.(*pollDesc).waitRead");
        assert!(f[2].3 && !f[1].3 && !f[3].3);
        assert_eq!(frames(&s, 1).len(), 1, "runtime.goexit dropped");
        assert_eq!(s.taken_at, Some(1_795_315_222.0));
        assert_eq!(s.declared_total, Some(4));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn lines_variant_with_spaces_in_names_and_columns() {
        // Hand-written `-lines` output.
        let text = [
            "Type: goroutine",
            SEP,
            "         4   runtime.gopark runtime/proc.go:462",
            "             main.(*Box[go.shape.struct { A int; B string }]).Wait example.com/x/main.go:28:5",
            "             main.run C:/Program Files/app/main.go:7 (inline)",
            "             [binary]",
            SEP,
        ]
        .join("\n");
        let s = read(&text);
        let f = frames(&s, 0);
        assert_eq!(
            f[0],
            (
                "runtime.gopark".into(),
                "runtime/proc.go".into(),
                462,
                false
            )
        );
        assert_eq!(
            f[1],
            (
                "main.(*Box[go.shape.struct { A int; B string }]).Wait".into(),
                "example.com/x/main.go".into(),
                28,
                false
            )
        );
        assert_eq!(
            f[2],
            (
                "main.run".into(),
                "C:/Program Files/app/main.go".into(),
                7,
                true
            )
        );
        assert_eq!(f[3], ("[binary]".into(), "".into(), 0, false));
    }

    #[test]
    fn addresses_variant_and_negative_counts() {
        // Hand-written `-addresses` output of a delta profile.
        let text = [
            "Type: goroutine",
            "Duration: 2s, Total samples = 13 ",
            SEP,
            "        -6   0000000000489f8d runtime.gopark runtime/proc.go:462",
            "             00000000006a90d4 <unknown>",
            SEP,
            "12345678901   0000000000489f8d runtime.gopark",
            SEP,
        ]
        .join("\n");
        let s = read(&text);
        assert_eq!(s.records[0].count, -6);
        assert_eq!(s.records[1].count, 12_345_678_901);
        let f = frames(&s, 0);
        assert_eq!(f[0].0, "runtime.gopark");
        assert_eq!(f[1].0, "<unknown>");
        assert_eq!(s.declared_total, None, "a delta profile declares no total");
    }

    #[test]
    fn r_cut_short_output_warns() {
        let text = basic();
        let cut = &text[..text.rfind(SEP).expect("sep")];
        let s = read(cut);
        assert_eq!(s.records.len(), 2);
        assert!(s.warnings.iter().any(|w| w.message.contains("cut short")));
    }

    #[test]
    fn malformed_line_is_a_warning_with_its_number() {
        let text = basic().replace("   handler:", "garbage\n   handler:");
        let s = read(&text);
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.warnings.len(), 1);
        assert_eq!(s.warnings[0].line, Some(6));
    }

    #[test]
    fn time_zones() {
        assert_eq!(parse_time("1970-01-02 00:00:00 UTC"), Some(86400.0));
        assert_eq!(parse_time("1970-01-02 00:00:00"), Some(86400.0));
        assert_eq!(parse_time("1970-01-02 05:30:00 +0530"), Some(86400.0));
        assert_eq!(parse_time("1970-01-01 19:00:00 -05"), Some(86400.0));
        assert_eq!(parse_time("2026-11-22 02:40:22 CET"), None);
        assert_eq!(parse_time("2026-13-22 02:40:22 UTC"), None);
        assert_eq!(parse_time("garbage"), None);
        assert_eq!(parse_time("99999999999-01-01 00:00:00 UTC"), None);
        assert_eq!(parse_time("2026-01-01 nan:00:00 UTC"), None);
    }
}
