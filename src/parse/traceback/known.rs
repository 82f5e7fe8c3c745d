//! Frame sequences a worker has read before, as a trie of exact line templates.
//!
//! A large dump repeats a few dozen stack shapes many times; only the argument words of the
//! function lines differ between copies. So each frame the worker has read in the common
//! shape (`name(args)` then `TAB path:LINE[ +0x…]`, see [`super::lines::fast_pair`]) is kept
//! as its exact bytes: the function line up to and including its `(`, and the whole file
//! line. Reading a goroutine then starts at the trie root and, frame by frame, compares the
//! text with the templates of the children of the current node: a match costs a few word
//! compares and one short newline search instead of splitting and hashing both lines. The
//! first frame that matches no child ends the walk, and the general reader takes over.
//!
//! A template match reads the two lines exactly as [`super::lines::fast_pair`] would: the
//! same function name (the template's, whose last `(` is the line's last `(` because the
//! arguments hold none), the same arguments, the same `path:LINE`, offset and so `inlined`
//! flag. So the frames, and the output, do not depend on whether a frame was met before.
//! Each node also carries the stack-identity hash of the path that leads to it, so a stack
//! read entirely from templates is identified without touching its frames again, and the
//! way the last such block ended (`created by F in goroutine N`, its file line, a blank
//! line), so that a block that ends the same way is done without the general reader.

use super::header::parse_id;
use super::lines::{line_end_and_paren, mix, same_bytes};

/// No node; as a parent, the root.
pub(super) const ROOT: u32 = u32::MAX;
/// Template bytes a worker keeps. The trie grows with distinct stack shapes, not
/// goroutines; this caps crafted input with endless distinct frames (past it, new frames
/// are read normally), while a real dump needs a few hundred KiB at most.
const MAX_BYTES: usize = 8 << 20;
/// Longest line kept as a template: longer ones are unusual and read normally.
const MAX_TEMPLATE: usize = 512;
/// Block ends kept per node: goroutines with the same stack are usually started from one
/// or a few places.
const MAX_TAILS: usize = 4;

/// One frame as it appeared: both lines' exact bytes and its identity.
pub(super) struct Node {
    /// The function line up to and including the `(` before the arguments.
    call: Box<[u8]>,
    /// The first eight bytes of `call`, compared before the rest.
    head: u64,
    /// The whole file line: TAB, `path:LINE`, optional ` +0x…`, and the `\n`.
    file: Box<[u8]>,
    /// Length of `path:LINE` in the file line.
    core_len: u32,
    /// The file line printed a ` +0x…` offset.
    offset: bool,
    /// The frame's `inlined` flag (a node without offset matches only the same flag).
    pub inlined: bool,
    /// The stack-identity hash of the frames from the root to here.
    pub key: u64,
    /// Frames from the root to here.
    pub depth: u32,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    tails: Vec<Tail>,
    /// The worker's id for the stack of exactly these frames (nothing elided), once known.
    pub stack: u32,
    /// The status text of the last goroutine whose stack ended here, and the worker's id
    /// for it: a stack is nearly always in one state, so this spares hashing the status.
    status: Option<(Box<[u8]>, u16)>,
}

/// How a block ended after a node's frames, as exact bytes around the parent goroutine id.
struct Tail {
    /// `created by F in goroutine `.
    head: Box<[u8]>,
    /// From the `\n` after the id: the file line and the blank line that ends the block.
    rest: Box<[u8]>,
    /// The worker's id for the creator frame.
    creator: u32,
}

impl Tail {
    #[inline]
    fn match_at(&self, text: &[u8], pos: usize) -> Option<(u32, Option<u64>, usize)> {
        let d = pos + self.head.len();
        if !same_bytes(text.get(pos..d)?, &self.head) {
            return None;
        }
        let digits = text
            .get(d..)?
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let (r, end) = (d + digits, d + digits + self.rest.len());
        if digits == 0 || !same_bytes(text.get(r..end)?, &self.rest) {
            return None;
        }
        Some((self.creator, parse_id(&text[d..r]), end))
    }
}

impl Node {
    /// The function name.
    pub fn func(&self) -> &[u8] {
        &self.call[..self.call.len() - 1]
    }

    /// `path:LINE` of the file line.
    pub fn core(&self) -> &[u8] {
        &self.file[1..1 + self.core_len as usize]
    }

    /// The frame at `pos` when its lines match this template: the arguments' span and
    /// where the line after the file line starts.
    #[inline]
    fn match_at(&self, text: &[u8], pos: usize) -> Option<(usize, usize, usize)> {
        let a = pos + self.call.len();
        if !same_bytes(text.get(pos..a)?, &self.call) {
            return None;
        }
        // The arguments run to `)\n` and hold no `(` (else the name would end later).
        let (nl, paren) = line_end_and_paren(text, a)?;
        if paren || nl == a || text[nl - 1] != b')' {
            return None;
        }
        let f = nl + 1;
        let next = f + self.file.len();
        if !same_bytes(text.get(f..next)?, &self.file) {
            return None;
        }
        if !self.offset && (&text[a..nl - 1] == b"...") != self.inlined {
            return None;
        }
        Some((a, nl - 1, next))
    }
}

/// The trie of known frame sequences.
pub(super) struct KnownFrames {
    nodes: Vec<Node>,
    /// First child of the root.
    roots: u32,
    /// Bytes held by the templates.
    bytes: usize,
}

impl KnownFrames {
    pub fn new() -> KnownFrames {
        KnownFrames {
            nodes: Vec::new(),
            roots: ROOT,
            bytes: 0,
        }
    }

    pub fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    /// The frame at `pos` when it is one of the frames that followed `parent` before: its
    /// node, the span of its arguments, and where the next line starts.
    #[inline]
    pub fn step(&self, text: &[u8], pos: usize, parent: u32) -> Option<(u32, usize, usize, usize)> {
        let mut c = match parent {
            ROOT => self.roots,
            p => self.nodes[p as usize].first_child,
        };
        let head = u64::from_le_bytes(*text.get(pos..)?.first_chunk::<8>()?);
        while c != ROOT {
            let n = &self.nodes[c as usize];
            if n.head == head {
                if let Some((a, b, next)) = n.match_at(text, pos) {
                    return Some((c, a, b, next));
                }
            }
            c = n.next_sibling;
        }
        None
    }

    /// The block end at `pos` when it is one seen before after `node`: the creator's id,
    /// the parent goroutine id, and where the line after the blank line starts.
    #[inline]
    pub fn tail(&self, text: &[u8], pos: usize, node: u32) -> Option<(u32, Option<u64>, usize)> {
        let tails = &self.nodes.get(node as usize)?.tails;
        tails.iter().find_map(|t| t.match_at(text, pos))
    }

    /// Records how a block ended after `node`'s frames (see [`Tail`]); past [`MAX_TAILS`],
    /// the oldest is replaced.
    pub fn learn_tail(&mut self, node: u32, head: &[u8], rest: &[u8], creator: u32) {
        let Some(n) = self.nodes.get_mut(node as usize) else {
            return;
        };
        let size = head.len() + rest.len();
        if head.len() > MAX_TEMPLATE || rest.len() > MAX_TEMPLATE || self.bytes + size > MAX_BYTES {
            return;
        }
        self.bytes += size;
        if n.tails.len() >= MAX_TAILS {
            let old = n.tails.remove(0);
            self.bytes -= old.head.len() + old.rest.len();
        }
        n.tails.push(Tail {
            head: head.into(),
            rest: rest.into(),
            creator,
        });
    }

    /// Remembers the worker's id for the stack that ends at `node`.
    pub fn set_stack(&mut self, node: u32, stack: u32) {
        if let Some(n) = self.nodes.get_mut(node as usize) {
            n.stack = stack;
        }
    }

    /// The worker's id for `status` when it is the one last seen at `node`.
    #[inline]
    pub fn status(&self, node: u32, status: &[u8]) -> Option<u16> {
        let (text, id) = self.nodes.get(node as usize)?.status.as_ref()?;
        same_bytes(text, status).then_some(*id)
    }

    /// Remembers `status` (id `id`) as the last one seen at `node`.
    pub fn set_status(&mut self, node: u32, status: &[u8], id: u16) {
        let Some(n) = self.nodes.get_mut(node as usize) else {
            return;
        };
        let old = n.status.as_ref().map_or(0, |(t, _)| t.len());
        if status.len() > MAX_TEMPLATE || self.bytes + status.len() > MAX_BYTES + old {
            return;
        }
        self.bytes = self.bytes + status.len() - old;
        n.status = Some((status.into(), id));
    }

    /// The nodes from the root down to `node`, in frame order.
    pub fn path(&self, mut node: u32) -> Vec<u32> {
        let mut path = Vec::new();
        while node != ROOT {
            path.push(node);
            node = self.nodes[node as usize].parent;
        }
        path.reverse();
        path
    }

    /// Records that a frame read in the common shape followed `parent`: `call` is its
    /// function line up to the `(`, `file` its whole file line (with the `\n`), `core_len`
    /// the length of its `path:LINE`, `hash` its identity hash. Returns its node, or `None`
    /// when the trie is full or the lines do not suit a template.
    #[allow(clippy::too_many_arguments)]
    pub fn learn(
        &mut self,
        parent: u32,
        call: &[u8],
        file: &[u8],
        core_len: usize,
        offset: bool,
        inlined: bool,
        hash: u64,
    ) -> Option<u32> {
        let first = match parent {
            ROOT => self.roots,
            p => self.nodes[p as usize].first_child,
        };
        let mut c = first;
        while c != ROOT {
            let n = &self.nodes[c as usize];
            if *n.call == *call && *n.file == *file && n.inlined == inlined {
                return Some(c);
            }
            c = n.next_sibling;
        }
        // Names shorter than the compared head (`f(`) are rare: read normally.
        let size = call.len() + file.len() + std::mem::size_of::<Node>();
        if self.bytes + size > MAX_BYTES
            || call.len() < 8
            || call.len() > MAX_TEMPLATE
            || file.len() > MAX_TEMPLATE
        {
            return None;
        }
        let (key, depth) = match parent {
            ROOT => (super::worker::STACK_SEED, 0),
            p => (self.nodes[p as usize].key, self.nodes[p as usize].depth),
        };
        self.bytes += size;
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            head: call
                .first_chunk::<8>()
                .map_or(0, |w| u64::from_le_bytes(*w)),
            call: call.into(),
            file: file.into(),
            core_len: core_len as u32,
            offset,
            inlined,
            key: mix(key, hash),
            depth: depth + 1,
            parent,
            first_child: ROOT,
            next_sibling: first,
            tails: Vec::new(),
            stack: ROOT,
            status: None,
        });
        match parent {
            ROOT => self.roots = id,
            p => self.nodes[p as usize].first_child = id,
        }
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use crate::model::Snapshot;
    use crate::parse::Options;

    fn parse(s: &str) -> Snapshot {
        let opts = Options {
            threads: 1,
            ..Options::default()
        };
        super::super::parse(Box::new(Cursor::new(s.as_bytes().to_vec())), "t", &opts).unwrap()
    }

    #[test]
    fn known_frames_read_like_first_sight() {
        // Hand-written blocks that each differ from the first one in a detail a template
        // must not gloss over. Parsed after all the others (so through the trie wherever a
        // template matches), each goroutine must read exactly as when its block is alone.
        let first = "main.worker(0xc000010000, 0x1)\n\t/src/app/main.go:10 +0x1d\nmain.run(...)\n\t/src/app/main.go:9\n";
        let end = "created by main.main in goroutine 1\n\t/src/app/main.go:20 +0x66\n\n";
        let same = |frames: String| (frames, end.to_string());
        let other_end = |tail: &str| (first.to_string(), tail.to_string());
        let variants = [
            same(first.to_string()),
            // Not inlined: the same file line without offset, but real arguments.
            same(first.replace("main.run(...)", "main.run(0x1)")),
            // A `(` in the arguments moves the split.
            same(first.replace("0xc000010000, 0x1", "0xc0(x, 0x1")),
            same(first.replace("+0x1d", "+0x2f")),
            same(first.replace("+0x1d", "+0x1d fp=0x1 sp=0x2 pc=0x3")),
            same(first.replace('\n', "\r\n")),
            same(first.replace("0x1)", &format!("{})", "0x1, ".repeat(40)))),
            same(first.replace("main.go:10", "main.go:11")),
            same(first.replace("main.worker(", "main.worker2(")),
            same(format!("{first}main.main()\n\t/src/app/main.go:3 +0x1\n")),
            same(first.replace("\t/src/app/main.go:9\n", "\t/src/app/main.go:9")),
            // The same frames, ended differently.
            other_end(&end.replace("goroutine 1\n", "goroutine 77\n")),
            other_end(&end.replace("goroutine 1\n", "goroutine 18446744073709551616\n")),
            other_end(&end.replace("goroutine 1\n", "goroutine x1\n")),
            other_end(&end.replace(" in goroutine 1", "")),
            other_end(&end.replace("main.go:20", "main.go:21")),
            other_end(&end.replace("\n\n", "\n\r\n")),
            other_end(&end.replace("\n\n", "\n")),
            other_end(&end.replace("\n\n", "\n...2 frames elided...\n\n")),
            other_end(&end.replace("\n\n", "\n\tstray\n\n")),
            other_end(&end.replace("main.main", "main.other")),
            other_end("\n"),
        ];
        // The same frames come in turn in other states, which a node must not remember
        // wrongly.
        let statuses = [
            "select",
            "chan receive",
            "select, 2 minutes",
            "sync.Mutex.Lock",
        ];
        let block = |i: usize, (frames, end): &(String, String)| {
            let status = statuses[i % statuses.len()];
            format!("goroutine {i} [{status}]:\n{frames}{end}")
        };
        let mut all = String::new();
        for round in 0..2 {
            for (i, v) in variants.iter().enumerate() {
                all.push_str(&block(round * 101 + i, v));
            }
        }
        let whole = parse(&all);
        assert_eq!(whole.goroutines.len(), 2 * variants.len());
        for (g, (round, i)) in whole
            .goroutines
            .iter()
            .zip((0..2).flat_map(|r| (0..variants.len()).map(move |i| (r, i))))
        {
            let alone = parse(&block(round * 101 + i, &variants[i]));
            let a = &alone.goroutines[0];
            assert_eq!(whole.state(g), alone.state(a), "variant {i}");
            assert_eq!(g.wait_minutes, a.wait_minutes, "variant {i}");
            assert_eq!(whole.stack(g), alone.stack(a), "variant {i}");
            assert_eq!(whole.args(g), alone.args(a), "variant {i}");
            assert_eq!(whole.creator(g), alone.creator(a), "variant {i}");
            assert_eq!(g.parent, a.parent, "variant {i}");
            assert_eq!(g.flags, a.flags, "variant {i}");
        }
        // And the warnings (with their line numbers) of the whole are those of a first read.
        let mut fresh = String::new();
        for round in 0..2 {
            for (i, v) in variants.iter().enumerate() {
                // A different function name in every block: nothing is met twice.
                let (frames, end) = v;
                let frames = frames.replace("main.", &format!("r{round}v{i}."));
                fresh.push_str(&block(round * 100 + i, &(frames, end.clone())));
            }
        }
        let fresh = parse(&fresh);
        let lines = |s: &Snapshot| s.warnings.iter().map(|w| w.line).collect::<Vec<_>>();
        assert_eq!(lines(&whole), lines(&fresh));
        assert!(!whole.warnings.is_empty());
    }

    #[test]
    fn r_distinct_frames_past_the_template_budget_still_read() {
        // Hand-written: goroutines whose frames are all different and long, so the
        // templates outgrow their budget; the frames after that must read the same.
        let n = 16_000;
        let mut text = String::new();
        for i in 0..n {
            let name = format!("main.f{i:05}{}", "x".repeat(300));
            text.push_str(&format!(
                "goroutine {i} [select]:\n{name}(0x1)\n\t/src/{name}.go:{i} +0x1\n\n"
            ));
        }
        let snap = parse(&text);
        assert_eq!(snap.stacks.len(), n);
        for (i, g) in snap.goroutines.iter().enumerate() {
            let f = &snap.stack(g).frames[0];
            assert!(f.function.starts_with(&format!("main.f{i:05}")));
            assert_eq!(f.line, i as u32);
        }
    }
}
