//! The per-chunk worker: turns one chunk of dump text (which starts at a line boundary and,
//! except for the first, at a goroutine header) into compact goroutine records.
//!
//! Speed comes from not building strings for what was seen before: frames met before are
//! matched whole against their exact text ([`super::known`]), other frames are recorded as
//! byte spans, the stack's identity (function names, files, lines, elision) is hashed from
//! those, and `Frame`s are built only for a stack this worker has not met.
//! Argument lists are copied into one byte arena per chunk; the merge decides which to keep.

use std::sync::Arc;

use ahash::AHashMap;
use memchr::memmem;

use super::header::{self, Header};
use super::known::{KnownFrames, ROOT};
use super::lines::{
    Cursor, Line, core_ok, elision, ends_block, excerpt, fast_created_by, fast_pair, file_core,
    has_byte, hash, indented, is_diagnostic, is_preamble, mix, plain_line_end, split_call,
    split_core, trim_start,
};
use crate::model::{Frame, GFlags, Labels, NONE, Stack, Warning};

/// Per-chunk cap on warnings that carry a line number; the rest are counted.
const MAX_CHUNK_WARNINGS: usize = 100;
/// `LocalG::args_first` when the argument text was hashed but not copied.
pub(super) const ARGS_NOT_COPIED: u32 = u32::MAX;
const FRAME_SEED: u64 = 0x243f_6a88_85a3_08d3;
pub(super) const STACK_SEED: u64 = 0x1319_8a2e_0370_7344;
const ARGS_SEED: u64 = 0xa409_3822_299f_31d0;
/// Distinct statuses one worker keeps (state ids are 16-bit in the model).
const MAX_STATES: usize = 8192;

/// A byte range of the chunk.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    #[inline]
    fn of(cur: &Cursor<'_>, s: &[u8]) -> Span {
        Span {
            start: cur.offset(s),
            len: s.len() as u32,
        }
    }

    #[inline]
    fn at((start, end): (usize, usize)) -> Span {
        Span {
            start: start as u32,
            len: (end - start) as u32,
        }
    }

    #[inline]
    fn get(self, text: &[u8]) -> &[u8] {
        &text[self.start as usize..(self.start + self.len) as usize]
    }
}

/// One frame as spans of the chunk.
#[derive(Debug, Clone, Copy)]
struct FrameSpan {
    func: Span,
    /// `path:LINE` of the file line.
    core: Span,
    inlined: bool,
    args: Span,
    /// Hash of the frame's identity: function, `path:LINE`, inlined.
    hash: u64,
    /// The file line printed a ` +0x…` offset.
    offset: bool,
    /// For a frame read in the common two-line shape: where its file line ends (after the
    /// `\n`), so that it can be learnt as a template; 0 otherwise.
    next: u32,
}

/// A `created by` line and the `path:LINE` of its file line.
#[derive(Debug, Clone, Copy)]
struct CreatorSpan {
    func: Span,
    core: Span,
}

/// One `[originating from goroutine N]:` section being read.
#[derive(Debug, Default)]
struct AncestorScratch {
    id: u64,
    frames: Vec<FrameSpan>,
    creator: Option<CreatorSpan>,
}

/// A function or `created by` line waiting for its file line.
#[derive(Debug, Clone, Copy)]
enum Pending {
    None,
    Frame {
        func: Span,
        args: Span,
        no: u64,
        hash: u64,
    },
    Creator {
        func: Span,
    },
}

/// One goroutine with ids local to the worker (stack, state, labels, creator) or to the
/// chunk (ancestors, argument pieces).
#[derive(Debug, Clone)]
pub(super) struct LocalG {
    pub id: u64,
    pub parent: Option<u64>,
    pub minutes: Option<u32>,
    pub stack: u32,
    pub state: u16,
    pub flags: u8,
    pub labels: u32,
    pub creator: u32,
    pub ancestors: u32,
    /// Hash of the argument lists.
    pub args_hash: u64,
    /// First entry in [`ChunkOut::args_pieces`], or [`ARGS_NOT_COPIED`].
    pub args_first: u32,
    /// Number of frames (pieces); 0 when the goroutine has no frames.
    pub args_n: u32,
}

/// What one chunk yields.
#[derive(Debug, Default)]
pub(super) struct ChunkOut {
    pub index: usize,
    pub worker: usize,
    /// Lines in the chunk.
    pub lines: u64,
    /// Bytes in the chunk.
    pub len: usize,
    pub goroutines: Vec<LocalG>,
    /// Stacks, states, label sets and creators this worker met for the first time in this
    /// chunk, in local-id order.
    pub new_stacks: Vec<Stack>,
    pub new_states: Vec<Box<str>>,
    pub new_labels: Vec<Labels>,
    pub new_creators: Vec<Frame>,
    /// Ancestor sections: (id, stack, creator).
    pub ancestries: Vec<Vec<(u64, Stack, Option<Frame>)>>,
    /// Argument text of the goroutines as read, and the (start, len) of each frame's piece.
    pub args_bytes: Vec<u8>,
    pub args_pieces: Vec<(u32, u32)>,
    /// `args_bytes` as text, once the chunk is read (the pieces then point into it).
    pub args_text: String,
    /// Preamble lines, in order.
    pub preamble: Vec<String>,
    /// Warnings with chunk-relative line numbers.
    pub warnings: Vec<Warning>,
    /// Warnings beyond the cap, counted.
    pub more_warnings: u64,
    /// Line (chunk-relative) of a goroutine block the input cut short.
    pub truncated: Option<u64>,
}

impl ChunkOut {
    fn warn(&mut self, line: u64, message: String) {
        if self.warnings.len() < MAX_CHUNK_WARNINGS {
            self.warnings.push(Warning {
                line: Some(line),
                message,
            });
        } else {
            self.more_warnings += 1;
        }
    }
}

/// The argument bytes as text. Dumps are ASCII, so this is one check and no copy; bytes
/// that are not UTF-8 are replaced piece by piece, moving the pieces to match.
fn args_text(bytes: Vec<u8>, pieces: &mut [(u32, u32)]) -> String {
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => return text,
        Err(e) => e.into_bytes(),
    };
    let mut text = String::with_capacity(bytes.len());
    for (start, len) in pieces.iter_mut() {
        let piece = String::from_utf8_lossy(&bytes[*start as usize..(*start + *len) as usize]);
        *start = text.len() as u32;
        *len = piece.len() as u32;
        text.push_str(&piece);
    }
    text
}

/// A worker's interning state, kept across the chunks it parses.
pub(super) struct Worker {
    id: usize,
    stacks: AHashMap<u64, (u32, u32)>,
    n_stacks: u32,
    states: AHashMap<Vec<u8>, u16>,
    labels: AHashMap<Vec<u8>, u32>,
    creators: AHashMap<u64, u32>,
    strings: AHashMap<Box<[u8]>, Arc<str>>,
    /// The frames of the goroutine being read that the trie did not match.
    frames: Vec<FrameSpan>,
    /// Frame sequences read before.
    known: KnownFrames,
    /// The argument text of the frames the trie matched (when argument lists are kept).
    walked_args: Vec<Span>,
}

impl Worker {
    pub fn new(id: usize) -> Worker {
        Worker {
            id,
            stacks: AHashMap::new(),
            n_stacks: 0,
            states: AHashMap::new(),
            labels: AHashMap::new(),
            creators: AHashMap::new(),
            strings: AHashMap::new(),
            frames: Vec::with_capacity(128),
            known: KnownFrames::new(),
            walked_args: Vec::with_capacity(128),
        }
    }

    /// Parses one chunk. `last` marks the end of the input; `keep_args` is false once the
    /// merge has stopped accepting new argument lists (then only their hashes are sent).
    pub fn run(&mut self, text: &[u8], index: usize, last: bool, keep_args: bool) -> ChunkOut {
        let mut out = ChunkOut {
            index,
            worker: self.id,
            len: text.len(),
            goroutines: Vec::with_capacity(text.len() / 512),
            ..ChunkOut::default()
        };
        if keep_args {
            out.args_bytes.reserve(text.len() / 4);
            out.args_pieces.reserve(text.len() / 64);
        }
        let mut cur = Cursor::new(text);
        let mut in_preamble = false;
        loop {
            // The common case, a header line ended by `\n`, read without the cursor.
            if let Some(end) = plain_line_end(text, cur.pos()) {
                if let Some(h) = header::parse(&text[cur.pos()..end]) {
                    let l = Line {
                        no: cur.lines() + 1,
                        text: &text[cur.pos()..end],
                        partial: false,
                    };
                    cur.skip_to(end + 1, 1);
                    in_preamble = false;
                    self.block(text, &mut cur, l, h, &mut out, keep_args, last);
                    continue;
                }
            }
            let Some(l) = cur.peek() else {
                break;
            };
            let t = l.text;
            if let Some(h) = header::parse(t) {
                cur.advance();
                in_preamble = false;
                if l.partial {
                    out.truncated = Some(l.no);
                    break;
                }
                self.block(text, &mut cur, l, h, &mut out, keep_args, last);
                continue;
            }
            cur.advance();
            let cut_header =
                t.starts_with(b"goroutine") || (!t.is_empty() && b"goroutine ".starts_with(t));
            if l.partial && (cut_header || t.first() == Some(&b'\t') || t.contains(&b'(')) {
                out.warn(
                    l.no,
                    format!(
                        "the input ends in the middle of a line (`{}`): the dump is truncated; everything before it was read",
                        excerpt(t)
                    ),
                );
                break;
            }
            if is_preamble(t) || (in_preamble && t.first() == Some(&b'\t')) {
                out.preamble
                    .push(String::from_utf8_lossy(t).trim_end().to_string());
                in_preamble = true;
                continue;
            }
            in_preamble = false;
            if t == b"runtime stack:" {
                // The system stack of a runtime throw: not a goroutine.
                while let Some(n) = cur.peek() {
                    if n.text.is_empty() || header::is_header(n.text) {
                        break;
                    }
                    cur.advance();
                }
            }
            // Anything else outside a block (log output, register dump, race reports, the go
            // command's messages) is not part of the dump.
        }
        out.lines = cur.lines();
        out.args_text = args_text(std::mem::take(&mut out.args_bytes), &mut out.args_pieces);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn block(
        &mut self,
        text: &[u8],
        cur: &mut Cursor<'_>,
        head: Line<'_>,
        h: Header<'_>,
        out: &mut ChunkOut,
        keep_args: bool,
        last: bool,
    ) {
        if let Some(problem) = h.problem {
            out.warn(
                head.no,
                format!(
                    "goroutine header: {problem} (expected `goroutine N [status]:`); read as far as it goes: `{}`",
                    excerpt(head.text)
                ),
            );
        }
        self.frames.clear();
        let mut ancestors: Vec<AncestorScratch> = Vec::new();
        let mut creator: Option<CreatorSpan> = None;
        let mut parent = None;
        let mut elided = None;
        let mut flags = h.flags;
        let mut pending = Pending::None;
        let mut truncated = false;
        // Frames read before, matched as whole templates; the rest is read below.
        self.walked_args.clear();
        let mut node = ROOT;
        let mut pos = cur.pos();
        while let Some((next_node, args_start, args_end, next)) = self.known.step(text, pos, node) {
            if keep_args {
                self.walked_args.push(Span::at((args_start, args_end)));
            }
            node = next_node;
            pos = next;
        }
        if node != ROOT {
            let lines = 2 * u64::from(self.known.node(node).depth);
            // The block ends as the last one with these frames did: nothing else to read.
            if let Some((creator, parent, end)) = self.known.tail(text, pos, node) {
                cur.skip_to(end, lines + 3);
                let (flags, none) = (h.flags, Vec::new());
                self.finish(
                    text, node, h, flags, parent, None, creator, none, out, keep_args,
                );
                return;
            }
            cur.skip_to(pos, lines);
        }
        let walked_to = pos;
        let mut created = None;
        loop {
            if matches!(pending, Pending::None) && ancestors.is_empty() {
                if let Some(p) = fast_pair(text, cur.pos()) {
                    let func = Span::at(p.func);
                    let args = Span::at(p.args);
                    let core = Span::at(p.core);
                    let inlined = !p.offset && args.get(text) == b"...";
                    let fh = hash(FRAME_SEED, func.get(text));
                    self.frames.push(FrameSpan {
                        func,
                        core,
                        inlined,
                        args,
                        hash: hash(fh ^ inlined as u64, core.get(text)),
                        offset: p.offset,
                        next: p.next as u32,
                    });
                    cur.skip_to(p.next, 2);
                    continue;
                }
                if let Some(c) = fast_created_by(text, cur.pos()) {
                    created = Some((cur.pos(), c));
                    parent = c.parent;
                    creator = Some(CreatorSpan {
                        func: Span::at(c.func),
                        core: Span::at(c.core),
                    });
                    cur.skip_to(c.next, 2);
                    continue;
                }
            }
            let Some(l) = cur.peek() else {
                // The block ran to the end of the chunk. Only the last chunk can end inside
                // a frame; a dangling function line there means the dump was cut.
                if last && matches!(pending, Pending::Frame { .. }) {
                    truncated = true;
                }
                break;
            };
            let t = l.text;
            if l.partial {
                cur.advance();
                truncated = true;
                break;
            }
            if t.is_empty() {
                cur.advance();
                break;
            }
            if indented(t) {
                cur.advance();
                let s = trim_start(t);
                match std::mem::replace(&mut pending, Pending::None) {
                    Pending::Frame {
                        func,
                        args,
                        no: _,
                        hash: fh,
                    } => {
                        let (core, offset) = file_core(s);
                        if !core_ok(core) {
                            out.warn(
                                l.no,
                                format!(
                                    "expected a file line `<TAB>path:LINE +0x…` after function `{}`; found `{}`",
                                    excerpt(func.get(text)),
                                    excerpt(t)
                                ),
                            );
                        }
                        let inlined = !offset && args.get(text) == b"...";
                        let frame = FrameSpan {
                            func,
                            core: Span::of(cur, core),
                            inlined,
                            args,
                            hash: hash(fh ^ inlined as u64, core),
                            offset,
                            next: 0,
                        };
                        match ancestors.last_mut() {
                            Some(a) => a.frames.push(frame),
                            None => self.frames.push(frame),
                        }
                    }
                    Pending::Creator { func } => {
                        let c = CreatorSpan {
                            func,
                            core: Span::of(cur, file_core(s).0),
                        };
                        match ancestors.last_mut() {
                            Some(a) => a.creator = Some(c),
                            None => creator = Some(c),
                        }
                    }
                    Pending::None => {
                        if s == b"goroutine running on other thread; stack unavailable" {
                            flags |= GFlags::NO_STACK;
                        } else if !is_diagnostic(s) {
                            out.warn(
                                l.no,
                                format!(
                                    "expected a function line `pkg.F(args)`, `created by …` or a blank line; found the indented line `{}`; skipped",
                                    excerpt(t)
                                ),
                            );
                        }
                    }
                }
                continue;
            }
            // A line at column 0. Diagnostics between a function line and its file line do
            // not break the pair.
            if !matches!(pending, Pending::None) && is_diagnostic(t) {
                cur.advance();
                continue;
            }
            match std::mem::replace(&mut pending, Pending::None) {
                Pending::Frame { func, no, .. } => out.warn(
                    no,
                    format!(
                        "expected a file line `<TAB>path:LINE` after `{}`, found `{}`; that frame is skipped",
                        excerpt(func.get(text)),
                        excerpt(t)
                    ),
                ),
                Pending::Creator { func } => {
                    let c = CreatorSpan {
                        func,
                        core: Span::default(),
                    };
                    match ancestors.last_mut() {
                        Some(a) => a.creator = Some(c),
                        None => creator = Some(c),
                    }
                }
                Pending::None => {}
            }
            if let Some((func, args)) = split_call(t) {
                if !has_byte(func, b' ') {
                    cur.advance();
                    pending = Pending::Frame {
                        func: Span::of(cur, func),
                        args: Span::of(cur, args),
                        no: l.no,
                        hash: hash(FRAME_SEED, func),
                    };
                    continue;
                }
            }
            if is_diagnostic(t) {
                cur.advance();
                continue;
            }
            if header::is_header(t) {
                break;
            }
            if let Some(rest) = t.strip_prefix(b"created by ") {
                cur.advance();
                let func = match memmem::rfind(rest, b" in goroutine ") {
                    Some(i) => {
                        if ancestors.is_empty() {
                            parent = header::parse_id(&rest[i + b" in goroutine ".len()..]);
                        }
                        &rest[..i]
                    }
                    None => rest,
                };
                pending = Pending::Creator {
                    func: Span::of(cur, func),
                };
                continue;
            }
            if let Some(n) = elision(t) {
                cur.advance();
                if ancestors.is_empty() {
                    elided = Some(n);
                }
                continue;
            }
            if let Some(rest) = t.strip_prefix(b"[originating from goroutine ") {
                cur.advance();
                let id = rest
                    .strip_suffix(b"]:")
                    .and_then(header::parse_id)
                    .unwrap_or(u64::MAX);
                ancestors.push(AncestorScratch {
                    id,
                    ..AncestorScratch::default()
                });
                continue;
            }
            if t.starts_with(b"non-Go function at pc=") {
                cur.advance();
                // A C frame without a symbolizer: one line, no file line.
                let frame = FrameSpan {
                    func: Span::of(cur, t),
                    core: Span::default(),
                    inlined: false,
                    args: Span::default(),
                    hash: hash(FRAME_SEED, t),
                    offset: false,
                    next: 0,
                };
                match ancestors.last_mut() {
                    Some(a) => a.frames.push(frame),
                    None => self.frames.push(frame),
                }
                continue;
            }
            if ends_block(t) {
                break;
            }
            cur.advance();
            match cur.peek() {
                // A cgo symbolizer frame: a name without parentheses, then
                // `TAB [file:line ]pc=0x…`.
                Some(n) if indented(n.text) && memmem::find(n.text, b"pc=0x").is_some() => {
                    pending = Pending::Frame {
                        func: Span::of(cur, t),
                        args: Span::default(),
                        no: l.no,
                        hash: hash(FRAME_SEED, t),
                    };
                    continue;
                }
                // The input's last line, and not a frame: a dump cut mid-line, with a
                // newline added after the cut (by a copy, a log shipper, an editor).
                None if last => {
                    truncated = true;
                    break;
                }
                _ => {}
            }
            out.warn(
                l.no,
                format!(
                    "expected a function line `pkg.F(args)`, `created by …` or a blank line inside goroutine {}; found `{}`; skipped",
                    h.id,
                    excerpt(t)
                ),
            );
        }
        if let Pending::Creator { func } = pending {
            let c = CreatorSpan {
                func,
                core: Span::default(),
            };
            match ancestors.last_mut() {
                Some(a) => a.creator = Some(c),
                None => creator = Some(c),
            }
        }
        if truncated && out.truncated.is_none() {
            out.truncated = Some(head.no);
        }
        let learnt = self.learn(text, node);
        let creator = match creator {
            None => NONE,
            Some(c) => self.creator_id(text, &c, out),
        };
        // A block of known frames then `created by`, its file line and a blank line, and
        // nothing else: the next block that ends the same way can skip the reading above.
        if let (Some(n), Some((at, c))) = (learnt, created) {
            let frames_end = self.frames.last().map_or(walked_to, |f| f.next as usize);
            let simple = n != ROOT
                && at == frames_end
                && cur.pos() == c.next + 1
                && text.get(c.next) == Some(&b'\n')
                && elided.is_none()
                && ancestors.is_empty()
                && flags == h.flags
                && !truncated;
            // `created by F in goroutine ` ends where the id starts; the line's `\n` comes
            // just before the TAB of the file line.
            let (id_start, id_end) = (c.func.1 + b" in goroutine ".len(), c.core.0 - 2);
            if simple && text[id_start..id_end].iter().all(u8::is_ascii_digit) {
                let (head, rest) = (&text[at..id_start], &text[id_end..=c.next]);
                self.known.learn_tail(n, head, rest, creator);
            }
        }
        self.finish(
            text, node, h, flags, parent, elided, creator, ancestors, out, keep_args,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        text: &[u8],
        node: u32,
        h: Header<'_>,
        flags: u8,
        parent: Option<u64>,
        elided: Option<u32>,
        creator: u32,
        ancestors: Vec<AncestorScratch>,
        out: &mut ChunkOut,
        keep_args: bool,
    ) {
        // Stack identity: the matched frames' hash is kept in their last node.
        let (mut key, walked) = match node {
            ROOT => (STACK_SEED, 0),
            n => (self.known.node(n).key, self.known.node(n).depth),
        };
        for f in &self.frames {
            key = mix(key, f.hash);
        }
        let mut args_hash = ARGS_SEED;
        if keep_args {
            for a in self
                .walked_args
                .iter()
                .chain(self.frames.iter().map(|f| &f.args))
            {
                args_hash = hash(args_hash, a.get(text));
            }
        }
        let key = mix(key, elided.map_or(u64::MAX, u64::from));
        let n = walked + self.frames.len() as u32;
        // A stack of trie frames only is looked up once per node.
        let plain = node != ROOT && self.frames.is_empty() && elided.is_none();
        let cached = if plain {
            self.known.node(node).stack
        } else {
            ROOT
        };
        let found = match cached {
            ROOT => self.stacks.get(&key).copied(),
            id => Some((id, n)),
        };
        let stack = match found {
            Some((id, len)) if len == n => id,
            _ => {
                let strings = &mut self.strings;
                let mut frames = Vec::with_capacity(n as usize);
                for id in self.known.path(node) {
                    let k = self.known.node(id);
                    frames.push(make_frame(strings, k.func(), k.core(), k.inlined));
                }
                for f in &self.frames {
                    let (func, core) = (f.func.get(text), f.core.get(text));
                    frames.push(make_frame(strings, func, core, f.inlined));
                }
                let stack = Stack { frames, elided };
                let id = self.n_stacks;
                self.n_stacks += 1;
                self.stacks.insert(key, (id, n));
                out.new_stacks.push(stack);
                id
            }
        };
        if plain && cached == ROOT {
            self.known.set_stack(node, stack);
        }
        let state = match self.known.status(node, h.status) {
            Some(id) => id,
            None => {
                let id = match self.states.get(h.status) {
                    Some(&id) => id,
                    // Crafted input with tens of thousands of distinct statuses: the rest
                    // share the first one rather than overflow the 16-bit state ids.
                    None if self.states.len() >= MAX_STATES => 0,
                    None => {
                        let id = self.states.len() as u16;
                        self.states.insert(h.status.to_vec(), id);
                        out.new_states
                            .push(String::from_utf8_lossy(h.status).into());
                        id
                    }
                };
                self.known.set_status(node, h.status, id);
                id
            }
        };
        let labels = match h.labels {
            None => NONE,
            Some(raw) => match self.labels.get(raw) {
                Some(&id) => id,
                None => {
                    let id = self.labels.len() as u32;
                    self.labels.insert(raw.to_vec(), id);
                    out.new_labels.push(header::parse_labels(raw));
                    id
                }
            },
        };
        let ancestors = if ancestors.is_empty() {
            NONE
        } else {
            let chain = ancestors
                .iter()
                .map(|a| {
                    let stack = Stack {
                        frames: a.frames.iter().map(|f| self.frame(text, f)).collect(),
                        elided: None,
                    };
                    let c = a.creator.map(|c| self.creator_frame(text, &c));
                    (a.id, stack, c)
                })
                .collect();
            out.ancestries.push(chain);
            (out.ancestries.len() - 1) as u32
        };
        let args_first = if keep_args && n > 0 {
            let first = out.args_pieces.len() as u32;
            for a in self
                .walked_args
                .iter()
                .chain(self.frames.iter().map(|f| &f.args))
            {
                let a = a.get(text);
                out.args_pieces
                    .push((out.args_bytes.len() as u32, a.len() as u32));
                out.args_bytes.extend_from_slice(a);
            }
            first
        } else {
            ARGS_NOT_COPIED
        };
        out.goroutines.push(LocalG {
            id: h.id,
            parent,
            minutes: h.minutes,
            stack,
            state,
            flags,
            labels,
            creator,
            ancestors,
            args_hash,
            args_first,
            args_n: n,
        });
    }

    /// The worker's id for a creator frame, interning it when new.
    fn creator_id(&mut self, text: &[u8], c: &CreatorSpan, out: &mut ChunkOut) -> u32 {
        let key = self.creator_key(text, c);
        if let Some(&id) = self.creators.get(&key) {
            return id;
        }
        let id = self.creators.len() as u32;
        self.creators.insert(key, id);
        let frame = self.creator_frame(text, c);
        out.new_creators.push(frame);
        id
    }

    /// Adds the frames read in the common shape after the ones the trie matched (up to the
    /// first one read otherwise) to the trie below `node`. Returns the node of the last
    /// frame when every frame is in the trie.
    fn learn(&mut self, text: &[u8], mut node: u32) -> Option<u32> {
        for f in &self.frames {
            if f.next == 0 {
                return None;
            }
            let call = &text[f.func.start as usize..f.args.start as usize];
            let file = &text[f.core.start as usize - 1..f.next as usize];
            let core_len = f.core.len as usize;
            match self
                .known
                .learn(node, call, file, core_len, f.offset, f.inlined, f.hash)
            {
                Some(n) => node = n,
                None => return None,
            }
        }
        Some(node)
    }

    fn creator_key(&self, text: &[u8], c: &CreatorSpan) -> u64 {
        hash(hash(FRAME_SEED, c.func.get(text)), c.core.get(text))
    }

    fn creator_frame(&mut self, text: &[u8], c: &CreatorSpan) -> Frame {
        let (file, line) = split_core(c.core.get(text));
        Frame {
            function: self.string(c.func.get(text)),
            file: self.string(file),
            line,
            inlined: false,
        }
    }

    fn frame(&mut self, text: &[u8], f: &FrameSpan) -> Frame {
        make_frame(
            &mut self.strings,
            f.func.get(text),
            f.core.get(text),
            f.inlined,
        )
    }

    fn string(&mut self, s: &[u8]) -> Arc<str> {
        intern(&mut self.strings, s)
    }
}

fn make_frame(
    strings: &mut AHashMap<Box<[u8]>, Arc<str>>,
    func: &[u8],
    core: &[u8],
    inlined: bool,
) -> Frame {
    let (file, line) = split_core(core);
    Frame {
        function: intern(strings, func),
        file: intern(strings, file),
        line,
        inlined,
    }
}

fn intern(strings: &mut AHashMap<Box<[u8]>, Arc<str>>, s: &[u8]) -> Arc<str> {
    if let Some(a) = strings.get(s) {
        return a.clone();
    }
    let a: Arc<str> = Arc::from(String::from_utf8_lossy(s).as_ref());
    strings.insert(s.into(), a.clone());
    a
}
