//! The goroutine header line in every variant the Go runtime has printed (1.17–1.27):
//!
//! ```text
//! goroutine 7 gp=0x… m=0 mp=0x… [chan receive (leaked), 3 minutes, locked to thread] {k: v}:
//! ```
//!
//! The line is tokenised left to right, honouring quotes, because label text may hold `]`,
//! `:`, `,` and `{` (Go 1.26 puts ` labels:{…}` inside the brackets, 1.27 puts ` {…}` after
//! them). Annotations this parser does not know are tolerated and ignored.

use memchr::memchr;

use super::lines::mask_of3;

use crate::model::{GFlags, Labels};

/// What a header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header<'a> {
    /// The goroutine id.
    pub id: u64,
    /// The status text without annotations (`chan receive`, `IO wait`).
    pub status: &'a [u8],
    /// [`GFlags`] bits.
    pub flags: u8,
    /// `, N minutes`.
    pub minutes: Option<u32>,
    /// The raw label text with its braces (`{…}`), in either the 1.26 or the 1.27 form.
    pub labels: Option<&'a [u8]>,
    /// What was wrong with the line, when it did not close as the grammar says; the fields
    /// above still hold what could be read.
    pub problem: Option<&'static str>,
}

/// True when `line` starts like a goroutine header: `goroutine <digits> ` then `[` or `gp=`.
pub(super) fn is_header(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"goroutine ") else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    let rest = &rest[digits..];
    rest.starts_with(b" [") || rest.starts_with(b" gp=")
}

/// Reads a header line (without its line ending). `None` when the line is not a header.
#[inline]
pub(super) fn parse(line: &[u8]) -> Option<Header<'_>> {
    match common(line) {
        Some(h) => Some(h),
        None => parse_full(line),
    }
}

/// The shapes nearly every header of a large dump has, `goroutine N [status]:` and
/// `goroutine N [status, M minutes]:` without annotations, read in one pass; `None` for
/// anything else, which the full reading then decides.
#[inline]
fn common(line: &[u8]) -> Option<Header<'_>> {
    let rest = line.strip_prefix(b"goroutine ")?;
    // 19 digits could overflow: the full reading reports that.
    let (id, i) = small_decimal(rest, 18)?;
    let inner = rest[i..].strip_prefix(b" [")?;
    // A status is a few words: its end is nearly always within 16 bytes.
    let set = [b']', b',', b'{'];
    let j = match inner.first_chunk::<16>().map(|b| mask_of3(b, set)) {
        Some(m) if m != 0 => m.trailing_zeros() as usize,
        _ => inner.iter().position(|b| set.contains(b))?,
    };
    let status = &inner[..j];
    // ` (leaked)` and other annotations set flags: left to the full reading.
    if status.last() == Some(&b')') {
        return None;
    }
    let (minutes, tail) = match inner[j] {
        b']' => (None, &inner[j + 1..]),
        b',' => {
            let item = inner[j + 1..].strip_prefix(b" ")?;
            let (m, d) = small_decimal(item, 9)?;
            let tail = item[d..]
                .strip_prefix(b" minutes]")
                .or_else(|| item[d..].strip_prefix(b" minute]"))?;
            (Some(m as u32), tail)
        }
        _ => return None,
    };
    if tail.first() != Some(&b':') {
        return None;
    }
    Some(Header {
        id,
        status,
        flags: 0,
        minutes,
        labels: None,
        problem: None,
    })
}

/// The decimal number at the start of `s` and its digit count, when it has 1 to `max`
/// digits (at most 18, so that it fits); `None` otherwise.
#[inline]
fn small_decimal(s: &[u8], max: usize) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut i = 0;
    while let Some(d) = s.get(i).map(|b| b.wrapping_sub(b'0')).filter(|d| *d <= 9) {
        if i == max {
            return None;
        }
        v = v * 10 + u64::from(d);
        i += 1;
    }
    (i > 0).then_some((v, i))
}

/// Reads a header line by the whole grammar.
fn parse_full(line: &[u8]) -> Option<Header<'_>> {
    // `is_header`, keeping the digit count.
    let rest = line.strip_prefix(b"goroutine ")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let after = &rest[digits..];
    if digits == 0 || !(after.starts_with(b" [") || after.starts_with(b" gp=")) {
        return None;
    }
    let mut h = Header {
        id: 0,
        status: b"",
        flags: 0,
        minutes: None,
        labels: None,
        problem: None,
    };
    match parse_u64(&rest[..digits]) {
        Some(id) => h.id = id,
        None => {
            h.id = u64::MAX;
            h.problem = Some("the goroutine id does not fit in 64 bits");
        }
    }
    let rest = &rest[digits + 1..];
    if common_tail(rest, &mut h) {
        return Some(h);
    }
    // `gp=0x… m=N mp=0x…` / `gp=0x… m=nil`: machine details, not kept.
    let Some(open) = memchr(b'[', rest) else {
        h.problem = Some("expected ` [status]:` after the goroutine id");
        return Some(h);
    };
    let inner = &rest[open + 1..];
    let mut i = status_end(inner);
    h.status = strip_annotations(&inner[..i], &mut h.flags);
    // Comma-separated annotations, then the 1.26 labels, then `]`.
    loop {
        let tail = &inner[i..];
        if tail.first() == Some(&b']') {
            i += 1;
            break;
        }
        if let Some(after) = tail.strip_prefix(b", ") {
            let len = item_end(after);
            annotation(&after[..len], &mut h);
            i += 2 + len;
            continue;
        }
        if tail.starts_with(b" labels:{") {
            let start = i + b" labels:".len();
            match label_span(&inner[start..]) {
                Some(len) => {
                    h.labels = Some(&inner[start..start + len]);
                    i = start + len;
                    continue;
                }
                None => {
                    h.labels = Some(&inner[start..]);
                    h.problem = Some("the labels are not closed by `}`");
                    return Some(h);
                }
            }
        }
        if tail.is_empty() {
            h.problem = Some("the status is not closed by `]`");
            return Some(h);
        }
        // Unknown text inside the brackets: skip to the next separator.
        let len = item_end(&tail[1..]) + 1;
        i += len;
    }
    let after = &inner[i..];
    // Go 1.27: ` {k: v, …}` after the brackets.
    let after = if let Some(l) = after.strip_prefix(b" {") {
        match label_span(&after[1..]) {
            Some(len) => {
                h.labels = Some(&after[1..1 + len]);
                &l[len - 1..]
            }
            None => {
                h.labels = Some(&after[1..]);
                h.problem = Some("the labels are not closed by `}`");
                return Some(h);
            }
        }
    } else {
        after
    };
    if !after.starts_with(b":") {
        h.problem = Some("expected `:` at the end of the goroutine header");
    }
    Some(h)
}

/// The common shapes after the id, `[status]:` and `[status, N minutes]:`, read with one
/// search; false for anything else (the full reading then starts over).
#[inline]
fn common_tail<'a>(rest: &'a [u8], h: &mut Header<'a>) -> bool {
    let Some(inner) = rest.strip_prefix(b"[") else {
        return false;
    };
    // A status is a few words: a plain loop beats a search call.
    let Some(i) = inner.iter().position(|&b| matches!(b, b']' | b',' | b'{')) else {
        return false;
    };
    let tail = match inner[i] {
        b']' => &inner[i + 1..],
        b',' => {
            let Some(item) = inner[i + 1..].strip_prefix(b" ") else {
                return false;
            };
            let d = item.iter().take_while(|b| b.is_ascii_digit()).count();
            let Some(tail) = item[d..]
                .strip_prefix(b" minutes]")
                .or_else(|| item[d..].strip_prefix(b" minute]"))
            else {
                return false;
            };
            if d == 0 {
                return false;
            }
            h.minutes = parse_u32(&item[..d]);
            tail
        }
        _ => return false,
    };
    if !tail.starts_with(b":") {
        h.minutes = None;
        return false;
    }
    h.status = strip_annotations(&inner[..i], &mut h.flags);
    true
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)?
            .checked_add(u64::from(d.wrapping_sub(b'0')))?;
    }
    Some(v)
}

/// Parses a decimal `u32`; `None` for anything else (empty, non-digits, overflow).
pub(super) fn parse_u32(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    parse_u64(digits).and_then(|v| u32::try_from(v).ok())
}

/// Parses a decimal `u64`; `None` for anything else.
pub(super) fn parse_id(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    parse_u64(digits)
}

/// Where the status ends: at `]`, `, ` or ` labels:{` (a wait reason holds none of them).
fn status_end(s: &[u8]) -> usize {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b']' => return i,
            b',' if s.get(i + 1) == Some(&b' ') => return i,
            b' ' if s[i..].starts_with(b" labels:{") => return i,
            _ => i += 1,
        }
    }
    i
}

/// Where one comma-separated annotation ends.
fn item_end(s: &[u8]) -> usize {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b']' => return i,
            b',' if s.get(i + 1) == Some(&b' ') => return i,
            b' ' if s[i..].starts_with(b" labels:{") => return i,
            _ => i += 1,
        }
    }
    i
}

/// Removes ` (leaked)`, ` (scan)` and ` (durable)` from the end of the status, setting flags.
/// `leaked (leaked)` keeps `leaked` as the status.
fn strip_annotations<'a>(mut s: &'a [u8], flags: &mut u8) -> &'a [u8] {
    loop {
        if s.last() != Some(&b')') {
            return s;
        }
        let (suffix, flag): (&[u8], u8) = if s.ends_with(b" (leaked)") {
            (b" (leaked)", GFlags::LEAKED)
        } else if s.ends_with(b" (scan)") {
            (b" (scan)", GFlags::SCAN)
        } else if s.ends_with(b" (durable)") {
            (b" (durable)", GFlags::DURABLE)
        } else {
            return s;
        };
        if s.len() == suffix.len() {
            return s;
        }
        *flags |= flag;
        s = &s[..s.len() - suffix.len()];
    }
}

fn annotation(item: &[u8], h: &mut Header<'_>) {
    if item == b"locked to thread" {
        h.flags |= GFlags::LOCKED;
    } else if let Some(n) = item
        .strip_suffix(b" minutes")
        .or_else(|| item.strip_suffix(b" minute"))
    {
        h.minutes = parse_u32(n);
    } else if item.starts_with(b"synctest bubble ") || item.starts_with(b"synctest group ") {
        h.flags |= GFlags::BUBBLE;
    }
    // Anything else: an annotation from a newer Go; tolerated.
}

/// The length of a `{…}` label list at the start of `s` (including both braces), honouring
/// quoted strings; `None` when it is not closed.
fn label_span(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'{') {
        return None;
    }
    let mut i = 1;
    let mut quoted = false;
    while i < s.len() {
        match s[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'}' if !quoted => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parses a label list `{k: v, "quoted key": "a]b:c,d"}` (1.27) or
/// `{"k": "v", …}` (1.26). Tolerant: what does not fit ends the list.
pub(super) fn parse_labels(raw: &[u8]) -> Labels {
    let mut out = Labels::new();
    let s = raw.strip_prefix(b"{").unwrap_or(raw);
    let mut i = 0;
    loop {
        while s.get(i) == Some(&b' ') {
            i += 1;
        }
        match s.get(i) {
            None | Some(b'}') => break,
            _ => {}
        }
        let (key, next) = token(s, i, b":");
        i = next;
        if s.get(i) != Some(&b':') {
            break;
        }
        i += 1;
        while s.get(i) == Some(&b' ') {
            i += 1;
        }
        let (value, next) = token(s, i, b",}");
        i = next;
        out.push((key.into_boxed_str(), value.into_boxed_str()));
        match s.get(i) {
            Some(b',') => i += 1,
            _ => break,
        }
    }
    out
}

/// One key or value starting at `i`: a quoted string (unescaped) or bare text up to one of
/// `stops`. Returns the text and the index after it.
fn token(s: &[u8], mut i: usize, stops: &[u8]) -> (String, usize) {
    if s.get(i) == Some(&b'"') {
        i += 1;
        let mut buf = Vec::new();
        while i < s.len() {
            match s[i] {
                b'"' => {
                    i += 1;
                    break;
                }
                b'\\' => i = unescape(s, i + 1, &mut buf),
                b => {
                    buf.push(b);
                    i += 1;
                }
            }
        }
        return (String::from_utf8_lossy(&buf).into_owned(), i);
    }
    let start = i;
    while i < s.len() && !stops.contains(&s[i]) {
        i += 1;
    }
    let text = String::from_utf8_lossy(&s[start..i]).trim_end().to_string();
    (text, i)
}

/// Decodes the escape whose letter is at `s[i]` (after the backslash), the escapes the
/// runtime's quoting writes: `\n \r \t \\ \" \xNN \uNNNN \UNNNNNNNN`. Returns the index after.
fn unescape(s: &[u8], i: usize, buf: &mut Vec<u8>) -> usize {
    let Some(&c) = s.get(i) else {
        buf.push(b'\\');
        return i;
    };
    let simple = match c {
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        _ => None,
    };
    if let Some(b) = simple {
        buf.push(b);
        return i + 1;
    }
    let digits = match c {
        b'x' => 2,
        b'u' => 4,
        b'U' => 8,
        _ => 0,
    };
    let hex = s.get(i + 1..i + 1 + digits).and_then(|h| {
        std::str::from_utf8(h)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    });
    match (digits, hex) {
        (2, Some(v)) => {
            buf.push(v as u8);
            i + 3
        }
        (4 | 8, Some(v)) => {
            let ch = char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut tmp = [0u8; 4];
            buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            i + 1 + digits
        }
        _ => {
            // Not an escape the runtime writes: keep it as it stands.
            buf.push(b'\\');
            i
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(raw: &str) -> Vec<(String, String)> {
        parse_labels(raw.as_bytes())
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plain_header() {
        let h = parse(b"goroutine 1 [running]:").unwrap();
        assert_eq!(h.id, 1);
        assert_eq!(h.status, b"running");
        assert_eq!(h.flags, 0);
        assert_eq!(h.problem, None);
    }

    #[test]
    fn minutes_locked_and_status_with_parentheses() {
        let h =
            parse(b"goroutine 20 [chan receive (nil chan), 1 minutes, locked to thread]:").unwrap();
        assert_eq!(h.status, b"chan receive (nil chan)");
        assert_eq!(h.minutes, Some(1));
        assert!(GFlags(h.flags).has(GFlags::LOCKED));
        assert_eq!(h.problem, None);
    }

    #[test]
    fn machine_details_are_skipped() {
        let h = parse(b"goroutine 0 gp=0x546820 m=0 mp=0x5475e0 [idle]:").unwrap();
        assert_eq!((h.id, h.status), (0, &b"idle"[..]));
        let h = parse(b"goroutine 2 gp=0x30ff4fae6780 m=nil [force gc (idle)]:").unwrap();
        assert_eq!(h.status, b"force gc (idle)");
    }

    #[test]
    fn r_leaked_leaked_keeps_status() {
        let h = parse(b"goroutine 9 [leaked (leaked)]:").unwrap();
        assert_eq!(h.status, b"leaked");
        assert!(GFlags(h.flags).has(GFlags::LEAKED));
        let h = parse(b"goroutine 11 [chan receive (leaked)] {worker: w1}:").unwrap();
        assert_eq!(h.status, b"chan receive");
        assert!(GFlags(h.flags).has(GFlags::LEAKED));
        assert_eq!(
            labels(std::str::from_utf8(h.labels.unwrap()).unwrap()),
            kv(&[("worker", "w1")])
        );
    }

    #[test]
    fn scan_durable_and_bubbles() {
        let h = parse(b"goroutine 22 [chan receive (scan) (durable), synctest bubble 1]:").unwrap();
        assert_eq!(h.status, b"chan receive");
        let f = GFlags(h.flags);
        assert!(f.has(GFlags::SCAN) && f.has(GFlags::DURABLE) && f.has(GFlags::BUBBLE));
        let h = parse(b"goroutine 19 [chan receive (synctest), synctest group 1]:").unwrap();
        assert_eq!(h.status, b"chan receive (synctest)");
        assert!(GFlags(h.flags).has(GFlags::BUBBLE));
    }

    #[test]
    fn r_go127_labels_in_header() {
        // Hand-written: 1.27 labels after `]` whose quoted values hold `]`, `:`, `,` and `{`.
        let line = br#"goroutine 31 [chan receive, 5 minutes] {handler: /api/v1, "user id": "a]b:c,d{", z: "q\"\\\x01\u00e9"}:"#;
        let h = parse(line).unwrap();
        assert_eq!(h.status, b"chan receive");
        assert_eq!(h.minutes, Some(5));
        assert_eq!(h.problem, None);
        let got = labels(std::str::from_utf8(h.labels.unwrap()).unwrap());
        assert_eq!(
            got,
            kv(&[
                ("handler", "/api/v1"),
                ("user id", "a]b:c,d{"),
                ("z", "q\"\\\u{1}é")
            ])
        );
    }

    #[test]
    fn r_go126_labels_inside_brackets() {
        // Hand-written: 1.26 `labels:{…}` inside the brackets, with a `]` inside a value.
        let line = br#"goroutine 45 [chan receive, locked to thread labels:{"handler": "/x]y", "user id": "a b\"c"}]:"#;
        let h = parse(line).unwrap();
        assert_eq!(h.status, b"chan receive");
        assert!(GFlags(h.flags).has(GFlags::LOCKED));
        assert_eq!(h.problem, None);
        let got = labels(std::str::from_utf8(h.labels.unwrap()).unwrap());
        assert_eq!(got, kv(&[("handler", "/x]y"), ("user id", "a b\"c")]));
        let h = parse(br#"goroutine 46 [select labels:{"k": "v"}]:"#).unwrap();
        assert_eq!(h.status, b"select");
        assert!(h.labels.is_some());
    }

    #[test]
    fn unknown_annotations_are_tolerated() {
        let h = parse(b"goroutine 5 [select, some future thing 3, 2 minutes]:").unwrap();
        assert_eq!(h.status, b"select");
        assert_eq!(h.minutes, Some(2));
        assert_eq!(h.problem, None);
    }

    #[test]
    fn common_shapes_read_like_the_full_grammar() {
        // Hand-written headers near the common shapes; the full reading is forced by a
        // leading `gp=` word, which it skips.
        for tail in [
            "[select]:",
            "[IO wait, 1 minutes]:",
            "[chan send, 1 minute]:",
            "[semacquire (leaked), 7 minutes]:",
            "[select, 99999999999 minutes]:",
            "[select,3 minutes]:",
            "[select, x minutes]:",
            "[select, 2 minutes, locked to thread]:",
            "[]:",
            "[select]",
            "[select] {a: b}:",
            "[sleep, 5 minutes] {a: b}:",
            "[select labels:{\"a\": \"b\"}]:",
        ] {
            let (a, b) = (
                format!("goroutine 12 {tail}"),
                format!("goroutine 12 gp=0x1 {tail}"),
            );
            let (fast, full) = (parse(a.as_bytes()).unwrap(), parse(b.as_bytes()).unwrap());
            assert_eq!(fast, full, "{tail}");
        }
    }

    #[test]
    fn r_one_pass_header_agrees_with_the_full_grammar() {
        // Hand-written headers at the edges of the one-pass reading: long ids, annotations
        // it leaves to the full reading, a status with a bracket-like word.
        for line in [
            "goroutine 999999999999999999 [select]:",
            "goroutine 9999999999999999999 [select]:",
            "goroutine 18446744073709551616 [select, 2 minutes]:",
            "goroutine 3 [chan receive (leaked)]:",
            "goroutine 3 [IO wait (durable), 4 minutes]:",
            "goroutine 3 [sleep, 1 minute]:trailing",
            "goroutine 3 [select, 4294967296 minutes]:",
            "goroutine 3 [()]:",
            "goroutine 3 [select]",
            // The status ends past the first 16 bytes, at them, and in a short line.
            "goroutine 3 [sync.WaitGroup.Wait, 3 minutes]:",
            "goroutine 3 [sync.RWMutex.RLock]:",
            "goroutine 3 [sync.Cond.Wait]:",
            "goroutine 3 [sleep]:",
            "goroutine 3 [x",
            "goroutine 3 [select, 999999999 minutes]:",
            "goroutine 3 [select, 1000000000 minutes]:",
        ] {
            assert_eq!(
                parse(line.as_bytes()),
                parse_full(line.as_bytes()),
                "{line}"
            );
        }
    }

    #[test]
    fn unescapes_wide_runes() {
        assert_eq!(labels(r#"{"k": "\U0001F600\t"}"#), kv(&[("k", "😀\t")]));
    }

    #[test]
    fn broken_headers_report_a_problem_without_panicking() {
        assert!(parse(b"goroutine profile: total 3").is_none());
        assert!(parse(b"goroutine 7").is_none());
        let h = parse(b"goroutine 7 [chan rec").unwrap();
        assert!(h.problem.is_some());
        let h = parse(b"goroutine 7 [select] {a: \"unterminated").unwrap();
        assert!(h.problem.is_some());
        let h = parse(b"goroutine 99999999999999999999999 [select]:").unwrap();
        assert!(h.problem.is_some());
        let h = parse(b"goroutine 7 gp=0x1 m=nil").unwrap();
        assert!(h.problem.is_some());
    }
}
