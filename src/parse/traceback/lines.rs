//! Line-level pieces of the traceback grammar: a line cursor over one chunk, the function
//! line `name(args)`, the file line `TAB path:LINE +0x… fp=… sp=… pc=…`, and the recognisers
//! for lines that are not frames (diagnostics, preamble, other tools' output).

use memchr::memrchr;

/// One line of a chunk, without its `\n` and `\r`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Line<'a> {
    /// 1-based line number within the chunk.
    pub no: u64,
    /// The text.
    pub text: &'a [u8],
    /// True for a last line that did not end with `\n` and does not look whole (the input
    /// was cut mid-line). A last line without `\n` that is a complete file line
    /// (`TAB path:LINE +0x…`) or blank is whole: the file just lacks its final newline.
    pub partial: bool,
}

/// Walks the lines of a chunk, with one line of look-ahead. Newlines are found 64 bytes at a
/// time as a bit mask, so a line costs a few instructions instead of a search call.
pub(super) struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
    no: u64,
    /// Offset of the 64-byte block that `mask` describes.
    base: usize,
    /// Newlines of that block not yet consumed, one bit per byte.
    mask: u64,
    peeked: Option<(Line<'a>, usize)>,
    /// Set by [`Cursor::skip_to`]: `base` and `mask` must be recomputed from `pos`.
    resync: bool,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        Cursor {
            text,
            pos: 0,
            no: 0,
            base: 0,
            mask: newline_mask(text),
            peeked: None,
            resync: false,
        }
    }

    #[inline]
    fn next_newline(&mut self) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let i = self.base + self.mask.trailing_zeros() as usize;
                self.mask &= self.mask - 1;
                return Some(i);
            }
            self.base += 64;
            if self.base >= self.text.len() {
                return None;
            }
            self.mask = newline_mask(&self.text[self.base..]);
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
        if self.resync {
            self.resync = false;
            self.base = self.pos & !63;
            self.mask = newline_mask(&self.text[self.base..]) & (!0u64 << (self.pos - self.base));
        }
        let (mut line, next, partial) = match self.next_newline() {
            Some(n) => (&self.text[self.pos..n], n + 1, false),
            None => (&self.text[self.pos..], self.text.len(), true),
        };
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        let partial = partial && !whole_last_line(line);
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

    /// Where the next line starts.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Consumes `lines` whole lines that end just before `pos` (read without the cursor).
    #[inline]
    pub fn skip_to(&mut self, pos: usize, lines: u64) {
        self.peeked = None;
        self.pos = pos;
        self.no += lines;
        self.resync = true;
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

/// Bit i is set when `b[i]` is a newline, for the first 64 bytes of `b`.
#[inline]
fn newline_mask(b: &[u8]) -> u64 {
    match b.first_chunk::<64>() {
        Some(block) => mask64(block),
        None => b
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c == b'\n')
            .fold(0, |m, (i, _)| m | 1 << i),
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn mask64(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let p = block.as_ptr() as *const __m128i;
    // SAFETY: SSE2 is part of the x86_64 baseline, and the four unaligned 16-byte loads stay
    // within the 64-byte array.
    unsafe {
        let nl = _mm_set1_epi8(b'\n' as i8);
        let m = |i: usize| {
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p.add(i)), nl)) as u16 as u64
        };
        m(0) | m(1) << 16 | m(2) << 32 | m(3) << 48
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn mask64(block: &[u8; 64]) -> u64 {
    mask_of(block, b'\n')
}

/// Bit i is set when `block[i] == c`.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn mask_of(block: &[u8; 64], c: u8) -> u64 {
    const LO: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut mask = 0;
    for (i, w) in block.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        let x = u64::from_le_bytes(word) ^ (0x0101_0101_0101_0101 * c as u64);
        // High bit of each byte set exactly where the byte of x is zero.
        let zero = !(((x & LO) + LO) | x | LO);
        // Gather the eight high bits into one byte.
        let bits = ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
        mask |= bits << (8 * i);
    }
    mask
}

/// Bit i is set when `block[i] == c`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn mask_of(block: &[u8; 64], c: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let p = block.as_ptr() as *const __m128i;
    // SAFETY: SSE2 is part of the x86_64 baseline, and the four unaligned 16-byte loads stay
    // within the 64-byte array.
    unsafe {
        let c = _mm_set1_epi8(c as i8);
        let m = |i: usize| {
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p.add(i)), c)) as u16 as u64
        };
        m(0) | m(1) << 16 | m(2) << 32 | m(3) << 48
    }
}

/// The line starting at `pos`, when it ends with `\n` within 128 bytes: its length and the
/// masks (bit i for byte `pos + i`, below the newline) of `(` (when `parens`) and of
/// spaces. `None` also near the end of `text`, where the caller reads line by line instead.
#[inline]
fn short_line(text: &[u8], pos: usize, parens: bool) -> Option<(usize, u128, u128)> {
    let b0: &[u8; 64] = text.get(pos..)?.first_chunk()?;
    let nl = mask_of(b0, b'\n');
    if nl != 0 {
        let n = nl.trailing_zeros() as usize;
        let below = (1u64 << n) - 1;
        let paren = if parens { mask_of(b0, b'(') & below } else { 0 };
        return Some((n, paren as u128, (mask_of(b0, b' ') & below) as u128));
    }
    let b1: &[u8; 64] = text.get(pos + 64..)?.first_chunk()?;
    let nl = mask_of(b1, b'\n');
    if nl == 0 {
        return None;
    }
    let n = nl.trailing_zeros() as usize;
    let below = (1u64 << n) - 1;
    let wide = |c| mask_of(b0, c) as u128 | ((mask_of(b1, c) & below) as u128) << 64;
    let paren = if parens { wide(b'(') } else { 0 };
    Some((64 + n, paren, wide(b' ')))
}

/// The highest set bit of a non-zero mask.
#[inline]
fn top(m: u128) -> usize {
    let hi = (m >> 64) as u64;
    if hi != 0 {
        127 - hi.leading_zeros() as usize
    } else {
        63 - (m as u64).leading_zeros() as usize
    }
}

/// A function line and its file line read together (see [`fast_pair`]); offsets are from
/// the start of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pair {
    pub func: (usize, usize),
    pub args: (usize, usize),
    /// `path:LINE` of the file line.
    pub core: (usize, usize),
    /// A ` +0x…` offset was printed.
    pub offset: bool,
    /// Where the line after the file line starts.
    pub next: usize,
}

/// The common frame shape, `name(args)` then `TAB path:LINE[ +0x…]`, both lines shorter
/// than 128 bytes and ended by `\n`, read with a few block compares and no per-byte loop.
/// `None` for anything else (CRLF, diagnostics, `fp=`/`pc=` words, a line that is not a
/// frame, the last lines of the text): the caller then reads line by line, which gives the
/// same result for the lines this accepts.
#[inline]
pub(super) fn fast_pair(text: &[u8], pos: usize) -> Option<Pair> {
    let (n, paren, space) = short_line(text, pos, true)?;
    // A function line: not indented, ends with `)`, its last `(` is not the first byte and
    // no space comes before it.
    if n < 3 || matches!(text[pos], b'\t' | b' ') || text[pos + n - 1] != b')' {
        return None;
    }
    if paren == 0 {
        return None;
    }
    let open = top(paren);
    if open == 0 || space.trailing_zeros() < open as u32 {
        return None;
    }
    let (core, offset, next) = fast_file_line(text, pos + n + 1)?;
    Some(Pair {
        func: (pos, pos + open),
        args: (pos + open + 1, pos + n - 1),
        core,
        offset,
        next,
    })
}

/// The file line at `p2` in the common shape `TAB path:LINE[ +0x…]\n`: the `path:LINE`
/// span, whether an offset was printed, and where the next line starts.
#[inline]
fn fast_file_line(text: &[u8], p2: usize) -> Option<((usize, usize), bool, usize)> {
    let (m, _, space) = short_line(text, p2, false)?;
    // One TAB, then the path.
    if m < 3 || text[p2] != b'\t' || matches!(text[p2 + 1], b'\t' | b' ') {
        return None;
    }
    if text[p2 + m - 1] == b'\r' {
        return None;
    }
    let (core_end, offset) = if space == 0 {
        (p2 + m, false)
    } else {
        let sp = top(space);
        if m - sp > 24 || text.get(p2 + sp + 1..p2 + sp + 4) != Some(b"+0x") {
            return None;
        }
        (p2 + sp, true)
    };
    if !text[core_end - 1].is_ascii_digit() {
        return None;
    }
    Some(((p2 + 1, core_end), offset, p2 + m + 1))
}

/// A `created by F in goroutine N` line and its file line read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CreatedBy {
    pub func: (usize, usize),
    pub parent: Option<u64>,
    /// `path:LINE` of the file line.
    pub core: (usize, usize),
    /// Where the line after the file line starts.
    pub next: usize,
}

/// `created by F in goroutine N` then `TAB path:LINE[ +0x…]`, in the shape [`fast_pair`]
/// accepts; `None` for anything else (read line by line instead, with the same result).
#[inline]
pub(super) fn fast_created_by(text: &[u8], pos: usize) -> Option<CreatedBy> {
    const IN: &[u8] = b" in goroutine ";
    if !text.get(pos..)?.starts_with(b"created by ") {
        return None;
    }
    let (n, _, space) = short_line(text, pos, false)?;
    if space == 0 || text[pos + n - 1] == b'\r' {
        return None;
    }
    let sp = top(space);
    let at = (pos + sp + 1).checked_sub(IN.len())?;
    if at < pos + b"created by ".len() || &text[at..pos + sp + 1] != IN {
        return None;
    }
    let (core, _, next) = fast_file_line(text, pos + n + 1)?;
    Some(CreatedBy {
        func: (pos + b"created by ".len(), at),
        parent: super::header::parse_id(&text[pos + sp + 1..pos + n]),
        core,
        next,
    })
}

/// The first `\n` at or after `pos`, and whether a `(` comes before it; `None` when no
/// line ending follows (a cut last line, read normally). Made for the short argument lists
/// of function lines: 16 bytes a step.
#[inline]
pub(super) fn line_end_and_paren(text: &[u8], pos: usize) -> Option<(usize, bool)> {
    let mut p = pos;
    let mut paren = false;
    while let Some(b) = text.get(p..).and_then(|t| t.first_chunk::<16>()) {
        let (nl, open) = masks16(b);
        if nl != 0 {
            let upto = nl ^ (nl - 1);
            return Some((p + nl.trailing_zeros() as usize, paren || open & upto != 0));
        }
        paren |= open != 0;
        p += 16;
    }
    let rest = text.get(p..)?;
    let n = memchr::memchr(b'\n', rest)?;
    Some((p + n, paren || has_byte(&rest[..n], b'(')))
}

/// Bit i is set when `b[i]` is one of the three `set` bytes.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(super) fn mask_of3(b: &[u8; 16], set: [u8; 3]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, and the 16-byte load reads exactly the
    // array.
    unsafe {
        let v = _mm_loadu_si128(b.as_ptr() as *const __m128i);
        let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
        let any = _mm_or_si128(_mm_or_si128(eq(set[0]), eq(set[1])), eq(set[2]));
        _mm_movemask_epi8(any) as u32
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(super) fn mask_of3(b: &[u8; 16], set: [u8; 3]) -> u32 {
    b.iter()
        .enumerate()
        .filter(|&(_, x)| set.contains(x))
        .fold(0u32, |m, (i, _)| m | 1 << i)
}

/// Bit i of the first mask is set when `b[i]` is `\n`, of the second when it is `(`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn masks16(b: &[u8; 16]) -> (u32, u32) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, and the 16-byte load reads exactly the
    // array.
    unsafe {
        let v = _mm_loadu_si128(b.as_ptr() as *const __m128i);
        let m = |c: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u32;
        (m(b'\n'), m(b'('))
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn masks16(b: &[u8; 16]) -> (u32, u32) {
    let m = |c: u8| {
        b.iter()
            .enumerate()
            .filter(|&(_, &x)| x == c)
            .fold(0u32, |m, (i, _)| m | 1 << i)
    };
    (m(b'\n'), m(b'('))
}

/// `a == b`, sixteen bytes at a time, for the short templates of known frames. Up to 48
/// bytes (nearly every function and file line) the words are compared without a loop:
/// overlapping first, middle and last words, combined before one branch.
#[inline]
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 16 {
        return if n >= 8 {
            (word(a, 0) ^ word(b, 0)) | (word(a, n - 8) ^ word(b, n - 8)) == 0
        } else {
            a == b
        };
    }
    let diff = |i: usize| wide(a, i) ^ wide(b, i);
    if n <= 32 {
        return diff(0) | diff(n - 16) == 0;
    }
    if n <= 48 {
        return diff(0) | diff(16) | diff(n - 16) == 0;
    }
    let mut i = 0;
    while i + 16 < n {
        if diff(i) != 0 {
            return false;
        }
        i += 16;
    }
    diff(n - 16) == 0
}

#[inline]
fn wide(s: &[u8], i: usize) -> u128 {
    let mut w = [0u8; 16];
    w.copy_from_slice(&s[i..i + 16]);
    u128::from_le_bytes(w)
}

/// The first `\n` at or after `pos`, when the line it ends has no `\r` before it (a CRLF
/// line is left to the line cursor, which strips it).
#[inline]
pub(super) fn plain_line_end(text: &[u8], pos: usize) -> Option<usize> {
    let mut p = pos;
    while let Some(b) = text.get(p..).and_then(|t| t.first_chunk::<16>()) {
        let (nl, _) = masks16(b);
        if nl != 0 {
            let end = p + nl.trailing_zeros() as usize;
            return (end == pos || text[end - 1] != b'\r').then_some(end);
        }
        p += 16;
    }
    None
}

const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const ONES: u64 = 0x0101_0101_0101_0101;

/// High bit of each byte set exactly where the byte of `x` equals `b`.
#[inline]
fn eq_bytes(x: u64, b: u8) -> u64 {
    let x = x ^ (ONES * b as u64);
    !(((x & LO7) + LO7) | x | LO7)
}

/// The position of the last `b` in `s`, eight bytes at a time.
#[inline]
pub(super) fn rfind_byte(s: &[u8], b: u8) -> Option<usize> {
    let mut end = s.len();
    while end >= 8 {
        let m = eq_bytes(word(s, end - 8), b);
        if m != 0 {
            return Some(end - 8 + (63 - m.leading_zeros() as usize) / 8);
        }
        end -= 8;
    }
    s[..end].iter().rposition(|&c| c == b)
}

/// True when `s` contains `b`, eight bytes at a time.
#[inline]
pub(super) fn has_byte(s: &[u8], b: u8) -> bool {
    let mut i = 0;
    while i + 8 <= s.len() {
        if eq_bytes(word(s, i), b) != 0 {
            return true;
        }
        i += 8;
    }
    s[i..].contains(&b)
}

/// A fast 64-bit hash of `s` mixed into `seed` (folded 128-bit multiplies over 16-byte
/// words), for the identities of stacks and argument lists.
#[inline]
pub(super) fn hash(seed: u64, s: &[u8]) -> u64 {
    const P0: u64 = 0xa076_1d64_78bd_642f;
    const P1: u64 = 0xe703_7ed1_a0b4_28db;
    let n = s.len();
    let (a, b) = if n >= 16 {
        let mut h = seed;
        let mut i = 0;
        while i + 16 < n {
            h = fold(word(s, i) ^ P0 ^ h, word(s, i + 8) ^ P1);
            i += 16;
        }
        (word(s, n - 16) ^ h, word(s, n - 8))
    } else if n >= 8 {
        (word(s, 0) ^ seed, word(s, n - 8))
    } else if n >= 4 {
        (half(s, 0) ^ seed, half(s, n - 4))
    } else if n > 0 {
        let v = (s[0] as u64) << 16 | (s[n / 2] as u64) << 8 | s[n - 1] as u64;
        (v ^ seed, 0)
    } else {
        (seed, 0)
    };
    fold(a ^ P1, b ^ P0 ^ n as u64)
}

/// Mixes one 64-bit value into a hash.
#[inline]
pub(super) fn mix(h: u64, v: u64) -> u64 {
    fold(h ^ 0xa076_1d64_78bd_642f, v ^ 0xe703_7ed1_a0b4_28db)
}

#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

#[inline]
fn word(s: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[i..i + 8]);
    u64::from_le_bytes(w)
}

#[inline]
fn half(s: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&s[i..i + 4]);
    u32::from_le_bytes(w) as u64
}

/// True when a last line that lacks its `\n` is nevertheless complete: blank, or a file
/// line that ends in its ` +0x…` offset (the part of a frame printed last). A cut elsewhere
/// on a file line, or any other line, may have lost text that matters.
fn whole_last_line(line: &[u8]) -> bool {
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return true;
    }
    if !indented(line) {
        return false;
    }
    let s = trim_start(line);
    let (core, offset) = file_core(s);
    if !offset || !core_ok(core) {
        return false;
    }
    // `+0x` with at least one hex digit, and nothing after the offset but `fp= sp= pc=`
    // words, each with its full value.
    let rest = &s[core.len()..];
    rest.split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .all(|w| {
            let hex = w
                .strip_prefix(b"+0x")
                .or_else(|| w.strip_prefix(b"fp=0x"))
                .or_else(|| w.strip_prefix(b"sp=0x"))
                .or_else(|| w.strip_prefix(b"pc=0x"));
            hex.is_some_and(|h| !h.is_empty() && h.iter().all(u8::is_ascii_hexdigit))
        })
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
    let open = rfind_byte(body, b'(')?;
    if open == 0 {
        return None;
    }
    Some((&body[..open], &body[open + 1..]))
}

/// The part of a file line that identifies a frame, `path:LINE`, read from the right (paths
/// may contain spaces): ` fp=… sp=… pc=…` and ` +0x…` are dropped. Also says whether a `+0x…`
/// offset was printed. `s` has no leading whitespace.
#[inline]
pub(super) fn file_core(s: &[u8]) -> (&[u8], bool) {
    let mut end = s.len();
    let mut offset = false;
    // The tokens to drop are at most 21 bytes long (`pc=0x` and 16 digits); a space further
    // left belongs to the path.
    while let Some(sp) = rfind_byte(&s[end.saturating_sub(24)..end], b' ') {
        let sp = sp + end.saturating_sub(24);
        let tok = &s[sp + 1..end];
        if tok.starts_with(b"+0x") {
            // The offset comes before `fp= sp= pc=`: nothing further left is dropped.
            offset = true;
            end = sp;
            break;
        }
        if !(tok.starts_with(b"fp=") || tok.starts_with(b"sp=") || tok.starts_with(b"pc=")) {
            break;
        }
        end = sp;
    }
    (&s[..end], offset)
}

/// True when a file line's core ends like `:LINE` (or is a symbolizer's bare `pc=0x…`).
#[inline]
pub(super) fn core_ok(core: &[u8]) -> bool {
    core.last().is_some_and(u8::is_ascii_digit) || core.starts_with(b"pc=0x")
}

/// Splits a file line's core into path and line: `:LINE` at the last colon. A symbolizer's
/// `pc=0x…` has neither; a core without `:LINE` is all path.
pub(super) fn split_core(core: &[u8]) -> (&[u8], u32) {
    if core.starts_with(b"pc=0x") {
        return (&core[..0], 0);
    }
    if let Some(c) = memrchr(b':', core) {
        if let Some(line) = super::header::parse_u32(&core[c + 1..]) {
            return (&core[..c], line);
        }
    }
    (core, 0)
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
    fn same_bytes_sees_a_difference_at_every_position_and_length() {
        let a: Vec<u8> = (0..80u8).map(|i| b'a' + i % 26).collect();
        for n in 0..=a.len() {
            assert!(same_bytes(&a[..n], &a[..n]), "{n}");
            assert!(!same_bytes(&a[..n], &a[..n.saturating_sub(1)]) || n == 0);
            for i in 0..n {
                let mut b = a[..n].to_vec();
                b[i] ^= 0x20;
                assert!(!same_bytes(&a[..n], &b), "length {n}, byte {i}");
            }
        }
    }

    fn file_line(s: &[u8]) -> (&[u8], u32, bool, bool) {
        let (core, offset) = file_core(s);
        let (file, line) = split_core(core);
        (file, line, offset, core_ok(core))
    }

    #[test]
    fn file_line_with_spaces_drive_letter_and_frame_pointers() {
        let f = file_line(b"C:/Program Files/Go/src/runtime/mgc.go:1373 +0x25 fp=0xc00045bfe0 sp=0xc00045bfc0 pc=0x7ff7f65b75e5");
        assert_eq!(
            f,
            (
                &b"C:/Program Files/Go/src/runtime/mgc.go"[..],
                1373,
                true,
                true
            )
        );
    }

    #[test]
    fn file_line_pseudo_paths_and_no_offset() {
        assert_eq!(
            file_line(b"<autogenerated>:1 +0x2b"),
            (&b"<autogenerated>"[..], 1, true, true)
        );
        assert_eq!(file_line(b"?:0"), (&b"?"[..], 0, false, true));
        assert_eq!(
            file_line(b"/src/crash1.21/main.go:30"),
            (&b"/src/crash1.21/main.go"[..], 30, false, true)
        );
        assert_eq!(
            file_line(b"/src/c/lib.c:12 pc=0x4f4b3e"),
            (&b"/src/c/lib.c"[..], 12, false, true)
        );
        assert_eq!(file_line(b"pc=0x4f4b3c"), (&b""[..], 0, false, true));
        assert!(!file_line(b"no colon here").3);
    }

    #[test]
    fn newline_masks_agree_with_a_plain_search() {
        let text: Vec<u8> = (0..1000u32)
            .map(|i| {
                if (i * 7919) % 13 == 0 {
                    b'\n'
                } else {
                    b'a' + (i % 26) as u8
                }
            })
            .collect();
        for start in [0, 1, 5, 63, 64, 65, 500, 999] {
            let mut c = Cursor::new(&text[start..]);
            let mut got = Vec::new();
            while let Some(l) = c.next_line() {
                got.push(l.text.to_vec());
            }
            let want: Vec<Vec<u8>> = text[start..]
                .split(|&b| b == b'\n')
                .map(<[u8]>::to_vec)
                .collect();
            let want = if text[start..].ends_with(b"\n") {
                &want[..want.len() - 1]
            } else {
                &want[..]
            };
            assert_eq!(got, want, "start {start}");
        }
    }

    #[test]
    fn byte_searches_agree_with_plain_ones() {
        let text = b"net/http.(*conn).serve(0xc000123456, {0x7a1b20, 0xc0004567}) (x) \x80\xff(";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let s = &text[start..end];
                for b in [b'(', b' ', b'x', 0x80, 0xff, b'z'] {
                    assert_eq!(rfind_byte(s, b), s.iter().rposition(|&c| c == b));
                    assert_eq!(has_byte(s, b), s.contains(&b));
                }
            }
        }
    }

    #[test]
    fn hash_separates_nearby_inputs() {
        let mut seen = std::collections::HashSet::new();
        for n in 1..40 {
            for b in [b'a', b'b'] {
                let s = vec![b; n];
                assert!(seen.insert(hash(1, &s)), "{n} {b}");
            }
        }
        assert_ne!(hash(1, b"main.f"), hash(2, b"main.f"));
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
    fn fast_pair_agrees_with_line_by_line_reading() {
        // Hand-written frame pairs, padded so the lines sit at every offset of a block.
        let pairs: &[&[u8]] = &[
            b"net/http.(*conn).serve(0xc000123456, {0x7a1b20, 0xc0004567})\n\tnet/http/server.go:2102 +0x625\n",
            b"internal/poll.(*pollDesc).waitRead(...)\n\tinternal/poll/fd_poll_runtime.go:89\n",
            b"main.f()\n\tC:/Program Files/x.go:12 +0x1d\n",
            b"main.f()\n\t/a b/x.go:12\n",
            b"main.f()\n\t/x.go:12 +0x1d fp=0xc0 sp=0xc1 pc=0x4\n",
            b"main.f()\r\n\t/x.go:12 +0x1d\r\n",
            b"main.f()\n    /x.go:12 +0x1d\n",
            b"created by main.g in goroutine 1\n\t/x.go:12 +0x1d\n",
            b"runtime: bad (x)\n\t/x.go:12 +0x1d\n",
            b"(x)\n\t/x.go:12\n",
            b"main.f(x)\n\t/x.go:line\n",
            b"main.f(0x1)\n\tpkg/a/very/long/path/that/goes/on/and/on/and/on/for/quite/a/while/file.go:123456 +0x1234567\n",
        ];
        for pair in pairs {
            for pad in 0..70 {
                let mut text = vec![b'x'; pad];
                text.push(b'\n');
                let pos = text.len();
                text.extend_from_slice(pair);
                text.extend_from_slice(&[b'\n'; 130]);
                let Some(p) = fast_pair(&text, pos) else {
                    continue;
                };
                let mut c = Cursor::new(&text[pos..]);
                let f = c.next_line().unwrap().text;
                let (func, args) = split_call(f).unwrap();
                assert!(!has_byte(func, b' '));
                let file = c.next_line().unwrap().text;
                assert!(indented(file));
                let (core, offset) = file_core(trim_start(file));
                assert!(core_ok(core));
                let span = |(a, b): (usize, usize)| &text[a..b];
                assert_eq!(span(p.func), func);
                assert_eq!(span(p.args), args);
                assert_eq!((span(p.core), p.offset), (core, offset));
                assert_eq!(p.next, pos + pair.len());
            }
        }
        let mut text = b"main.f()\n\t/x.go:12 +0x1d\n".to_vec();
        text.extend_from_slice(&[b'\n'; 130]);
        assert!(fast_pair(&text, 0).is_some());
        assert!(fast_pair(b"main.f()\n\t/x.go:12 +0x1d\n", 0).is_none());
    }

    #[test]
    fn fast_created_by_agrees_with_line_by_line_reading() {
        // Hand-written creator lines, with and without the parent id and odd spacing.
        let pairs: &[&[u8]] = &[
            b"created by net/http.(*Server).Serve in goroutine 1\n\tnet/http/server.go:3454 +0x485\n",
            b"created by main.main in goroutine 18446744073709551615\n\t/x.go:12\n",
            b"created by main.main in goroutine 99999999999999999999\n\t/x.go:12 +0x1\n",
            b"created by main.main in goroutine x1\n\t/x.go:12 +0x1\n",
            b"created by main.main\n\t/x.go:12 +0x1\n",
            b"created by  in goroutine 3\n\t/x.go:12 +0x1\n",
            b"created by main.main in goroutine 3\r\n\t/x.go:12 +0x1\r\n",
            b"created by main.main in goroutine 3\n\t/a b/x.go:12\n",
        ];
        for pair in pairs {
            let mut text = pair.to_vec();
            text.extend_from_slice(&[b'\n'; 130]);
            let Some(c) = fast_created_by(&text, 0) else {
                continue;
            };
            let mut cur = Cursor::new(&text);
            let line = cur.next_line().unwrap().text;
            let rest = line.strip_prefix(b"created by ").unwrap();
            let i = memchr::memmem::rfind(rest, b" in goroutine ").unwrap();
            let file = cur.next_line().unwrap().text;
            let span = |(a, b): (usize, usize)| &text[a..b];
            assert_eq!(span(c.func), &rest[..i]);
            assert_eq!(
                c.parent,
                crate::parse::traceback::header::parse_id(&rest[i + 14..])
            );
            assert_eq!(span(c.core), file_core(trim_start(file)).0);
            assert_eq!(c.next, pair.len());
        }
        let mut text = pairs[0].to_vec();
        text.extend_from_slice(&[b'\n'; 130]);
        assert_eq!(fast_created_by(&text, 0).unwrap().parent, Some(1));
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

    #[test]
    fn a_last_line_without_newline_is_whole_only_when_nothing_can_be_missing() {
        let last = |s: &'static [u8]| {
            let mut c = Cursor::new(s);
            c.next_line().unwrap().partial
        };
        assert!(!last(b"\t/src/a.go:18 +0x78"));
        assert!(!last(b"\t/src/a.go:18 +0x78 fp=0xc0 sp=0xc1 pc=0x10"));
        assert!(!last(b"\t/src/a.go:18 +0x78\r"));
        assert!(!last(b"   "));
        assert!(last(b"\t/src/a.go:18 +0x"), "the offset lost its digits");
        assert!(last(b"\t/src/a.go:18 +0x78 fp=0xc0 sp="));
        assert!(last(b"\t/src/a.go:18"), "the line number may be cut");
        assert!(last(b"\t/src/a.g"));
        assert!(
            last(b"main.main()"),
            "a function line without its file line"
        );
        assert!(last(b"goroutine 5 [select]:"));
    }
}
