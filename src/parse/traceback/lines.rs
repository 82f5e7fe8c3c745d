//! Line-level pieces of the traceback grammar: a line cursor over one chunk, the function
//! line `name(args)`, the file line `TAB path:LINE +0x… fp=… sp=… pc=…`, and the recognisers
//! for lines that are not frames (diagnostics, preamble, other tools' output).

use memchr::{memchr, memrchr};

/// One line of a chunk, without its `\n` and `\r`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Line<'a> {
    /// 1-based line number within the chunk.
    pub no: u64,
    /// The text.
    pub text: &'a [u8],
    /// True for a last line that did not end with `\n` (the input was cut mid-line).
    pub partial: bool,
}

/// Walks the lines of a chunk, with one line of look-ahead.
pub(super) struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
    no: u64,
    peeked: Option<(Line<'a>, usize)>,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        Cursor {
            text,
            pos: 0,
            no: 0,
            peeked: None,
        }
    }

    /// The next line, without consuming it.
    #[inline]
    pub fn peek(&mut self) -> Option<Line<'a>> {
        if let Some((l, _)) = self.peeked {
            return Some(l);
        }
        if self.pos >= self.text.len() {
            return None;
        }
        let rest = &self.text[self.pos..];
        let (mut line, next, partial) = match memchr(b'\n', rest) {
            Some(n) => (&rest[..n], self.pos + n + 1, false),
            None => (rest, self.text.len(), true),
        };
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        let l = Line {
            no: self.no + 1,
            text: line,
            partial,
        };
        self.peeked = Some((l, next));
        Some(l)
    }

    /// Consumes the line last returned by [`Cursor::peek`].
    #[inline]
    pub fn advance(&mut self) {
        if let Some((_, next)) = self.peeked.take() {
            self.pos = next;
            self.no += 1;
        }
    }

    /// The next line, consumed.
    #[cfg(test)]
    pub fn next_line(&mut self) -> Option<Line<'a>> {
        let l = self.peek()?;
        self.advance();
        Some(l)
    }

    /// Byte offset of `s` (a sub-slice of the chunk) from the chunk start.
    #[inline]
    pub fn offset(&self, s: &[u8]) -> u32 {
        (s.as_ptr() as usize - self.text.as_ptr() as usize) as u32
    }

    /// Lines consumed so far.
    pub fn lines(&self) -> u64 {
        self.no
    }
}

/// True for a line that starts with a space or TAB (a file line, also after copy-paste
/// turned its TAB into spaces).
#[inline]
pub(super) fn indented(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'\t' | b' '))
}

/// The line without leading spaces and TABs.
#[inline]
pub(super) fn trim_start(line: &[u8]) -> &[u8] {
    let n = line
        .iter()
        .take_while(|&&b| b == b'\t' || b == b' ')
        .count();
    &line[n..]
}

/// Splits a function line `name(args)` at its last `(`: arguments never contain
/// parentheses, names may (`pkg.(*T).M`).
#[inline]
pub(super) fn split_call(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = line.strip_suffix(b")")?;
    let open = memrchr(b'(', body)?;
    if open == 0 {
        return None;
    }
    Some((&body[..open], &body[open + 1..]))
}

/// A parsed file line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileLine<'a> {
    /// The path as printed (may hold spaces and a drive letter).
    pub file: &'a [u8],
    /// The line number; 0 when absent.
    pub line: u32,
    /// True when a `+0x…` offset was printed.
    pub offset: bool,
    /// True when `:LINE` was found.
    pub ok: bool,
}

/// Reads a file line from the right (paths may contain spaces): drop ` fp=… sp=… pc=…`, drop
/// ` +0x…`, then take `:LINE` at the last colon. `s` has no leading whitespace.
#[inline]
pub(super) fn file_line(s: &[u8]) -> FileLine<'_> {
    let mut end = s.len();
    let mut offset = false;
    while let Some(sp) = memrchr(b' ', &s[..end]) {
        let tok = &s[sp + 1..end];
        if tok.starts_with(b"+0x") {
            offset = true;
        } else if !(tok.starts_with(b"fp=") || tok.starts_with(b"sp=") || tok.starts_with(b"pc=")) {
            break;
        }
        end = sp;
    }
    let body = &s[..end];
    if body.starts_with(b"pc=0x") {
        // A cgo symbolizer frame without a file.
        return FileLine {
            file: &body[..0],
            line: 0,
            offset,
            ok: true,
        };
    }
    if let Some(c) = memrchr(b':', body) {
        if let Some(line) = super::header::parse_u32(&body[c + 1..]) {
            return FileLine {
                file: &body[..c],
                line,
                offset,
                ok: true,
            };
        }
    }
    FileLine {
        file: body,
        line: 0,
        offset,
        ok: false,
    }
}

/// The elision marker: `...N frames elided...` gives `Some(N)`,
/// `...additional frames elided...` gives `Some(0)`.
pub(super) fn elision(line: &[u8]) -> Option<u32> {
    let inner = line.strip_prefix(b"...")?.strip_suffix(b" elided...")?;
    if inner == b"additional frames" {
        return Some(0);
    }
    let n = inner.strip_suffix(b" frames")?;
    super::header::parse_u32(n).or(Some(0))
}

/// Unwinder diagnostics the runtime may print inside a block (`runtime: g N: unexpected
/// return pc…`, `stack: frame={…}`, hexdump words): skipped.
#[inline]
pub(super) fn is_diagnostic(line: &[u8]) -> bool {
    let t = trim_start(line);
    t.starts_with(b"runtime: ") || t.starts_with(b"stack: frame={") || is_hexdump(t)
}

fn is_hexdump(t: &[u8]) -> bool {
    let Some(hex) = t.strip_prefix(b"0x") else {
        return false;
    };
    let n = hex.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    n > 0 && hex.get(n) == Some(&b':')
}

/// A line of a crash preamble: `panic: …`, `fatal error: …`, `SIGQUIT: quit`, `PC=0x…`,
/// `[signal …`, runtime messages.
pub(super) fn is_preamble(line: &[u8]) -> bool {
    line.starts_with(b"panic: ")
        || line.starts_with(b"fatal error: ")
        || line.starts_with(b"[signal ")
        || line.starts_with(b"PC=0x")
        || line.starts_with(b"runtime: ")
        || line.starts_with(b"signal arrived during cgo execution")
        || line.starts_with(b"instruction bytes:")
        || is_signal_line(line)
}

/// `SIGQUIT: quit`, `SIGABRT: abort`, `SIGSEGV: segmentation violation`.
fn is_signal_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"SIG") else {
        return false;
    };
    let n = rest.iter().take_while(|b| b.is_ascii_uppercase()).count();
    n > 0 && rest[n..].starts_with(b": ")
}

/// Lines that end a goroutine block without being part of it: a new crash preamble, the go
/// command's and test runner's output, a race-detector report, the crash relay separator.
pub(super) fn ends_block(line: &[u8]) -> bool {
    is_preamble(line)
        || line.starts_with(b"exit status ")
        || line.starts_with(b"FAIL")
        || line.starts_with(b"--- ")
        || line.starts_with(b"=== ")
        || line.starts_with(b"ok  ")
        || line.starts_with(b"=====")
        || line.starts_with(b"WARNING: DATA RACE")
        || line.starts_with(b"-----")
        || line == b"runtime stack:"
}

/// Shortens a line for a message.
pub(super) fn excerpt(line: &[u8]) -> String {
    const MAX: usize = 80;
    let s = String::from_utf8_lossy(line);
    if s.chars().count() <= MAX {
        return s.into_owned();
    }
    let cut: String = s.chars().take(MAX).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_line_with_spaces_drive_letter_and_frame_pointers() {
        let f = file_line(b"C:/Program Files/Go/src/runtime/mgc.go:1373 +0x25 fp=0xc00045bfe0 sp=0xc00045bfc0 pc=0x7ff7f65b75e5");
        assert_eq!(f.file, b"C:/Program Files/Go/src/runtime/mgc.go");
        assert_eq!((f.line, f.offset, f.ok), (1373, true, true));
    }

    #[test]
    fn file_line_pseudo_paths_and_no_offset() {
        let f = file_line(b"<autogenerated>:1 +0x2b");
        assert_eq!((f.file, f.line), (&b"<autogenerated>"[..], 1));
        let f = file_line(b"?:0");
        assert_eq!((f.file, f.line, f.offset), (&b"?"[..], 0, false));
        let f = file_line(b"/src/crash1.21/main.go:30");
        assert_eq!((f.line, f.offset), (30, false));
        let f = file_line(b"pc=0x4f4b3c");
        assert!(f.ok && f.file.is_empty());
        let f = file_line(b"no colon here");
        assert!(!f.ok);
    }

    #[test]
    fn call_split_takes_last_parenthesis() {
        let (f, a) =
            split_call(b"net/http.(*conn).serve(0xc000123456, {0x7a1b20, 0xc0004567})").unwrap();
        assert_eq!(f, b"net/http.(*conn).serve");
        assert_eq!(a, b"0xc000123456, {0x7a1b20, 0xc0004567}");
        let (f, a) = split_call(b"internal/sync.(*Mutex).Lock(...)").unwrap();
        assert_eq!((f, a), (&b"internal/sync.(*Mutex).Lock"[..], &b"..."[..]));
        assert!(split_call(b"(foo)").is_none());
        assert!(split_call(b"no parens").is_none());
    }

    #[test]
    fn elision_markers() {
        assert_eq!(elision(b"...21 frames elided..."), Some(21));
        assert_eq!(elision(b"...additional frames elided..."), Some(0));
        assert_eq!(elision(b"...something else"), None);
    }

    #[test]
    fn cursor_strips_crlf_and_flags_a_cut_last_line() {
        let mut c = Cursor::new(b"a\r\nb\nc");
        assert_eq!(c.next_line().unwrap().text, b"a");
        let b = c.next_line().unwrap();
        assert_eq!((b.text, b.no, b.partial), (&b"b"[..], 2, false));
        let l = c.next_line().unwrap();
        assert_eq!((l.text, l.partial), (&b"c"[..], true));
        assert!(c.next_line().is_none());
    }
}
