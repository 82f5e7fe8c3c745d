//! Full traceback text: pprof `goroutine?debug=2`, `runtime.Stack`, panics, fatal errors,
//! SIGQUIT dumps, `go test` timeouts and goroutineleak debug=2 (spec §1).
//!
//! The input is streamed: it is read with `read()` into large chunks that are cut just before
//! a goroutine header, so no block straddles two chunks. A large file arrives already mapped
//! into memory ([`parse_bytes`]); then the chunks are cut from it in place. Worker threads parse chunks into
//! compact records with worker-local ids ([`worker`]); this thread merges them in dump order
//! into one [`SnapshotBuilder`], so goroutine order, warning line numbers and which argument
//! lists are kept do not depend on thread timing. Memory stays bounded by a few chunks plus
//! the snapshot itself.

mod header;
mod known;
mod lines;
mod merge;
mod worker;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use memchr::memmem;

use super::{Options, ParseError};
use crate::model::Snapshot;
use merge::Merger;
use worker::Worker;

/// Bytes read per chunk.
const CHUNK: usize = 2 << 20;
/// A chunk grows up to this size to keep one goroutine block whole; past it, it is cut at a
/// line boundary.
const MAX_CHUNK: usize = 64 << 20;

/// `Some(true)` when the head holds a goroutine header (`goroutine <digits> ` then `[` or
/// `gp=`) at the start of a line; `Some(false)` when it clearly is another format; `None`
/// otherwise (a dump may follow a long stretch of other output).
pub fn sniff(head: &[u8]) -> Option<bool> {
    let mut start = 0;
    let mut first = true;
    while start < head.len() {
        let line = &head[start..];
        if header::is_header(line) {
            return Some(true);
        }
        if first && is_other_format(line) {
            return Some(false);
        }
        first = false;
        match memchr::memchr2(b'\n', b'\r', line) {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    None
}

/// True when `line` starts like a goroutine header (`goroutine <digits> ` then `[` or `gp=`).
pub fn is_header_line(line: &[u8]) -> bool {
    header::is_header(line)
}

/// Heads that announce one of the other formats on their first line.
fn is_other_format(line: &[u8]) -> bool {
    line.starts_with(&[0x1f, 0x8b])
        || line.starts_with(b"goroutine profile: total ")
        || line.starts_with(b"goroutineleak profile: total ")
        || line.starts_with(b"File: ")
        || line.starts_with(b"Type: goroutine")
        || line.starts_with(b"State ")
        || line.starts_with(b"Netid ")
        || line.starts_with(b"Recv-Q ")
        || line.starts_with(b"Active Internet connections")
        || line.starts_with(b"Proto Recv-Q")
        || line.starts_with(b"  sl  local_address")
}

/// Reads a traceback dump.
pub fn parse(
    input: Box<dyn BufRead + Send>,
    source: &str,
    opts: &Options,
) -> Result<Snapshot, ParseError> {
    parse_chunked(input, source, opts, CHUNK)
}

fn parse_chunked(
    input: Box<dyn BufRead + Send>,
    source: &str,
    opts: &Options,
    chunk: usize,
) -> Result<Snapshot, ParseError> {
    let io_err = |error| ParseError::Io {
        source_name: source.to_string(),
        error,
    };
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let closed = AtomicBool::new(false);
    let mut merger = Merger::new(source, opts.args_budget, &closed);
    let mut chunker = Chunker::new(input, chunk);
    let Some(first) = chunker.next(Vec::new()).map_err(io_err)? else {
        return merger.finish();
    };
    if threads <= 1 || first.last {
        // Small input or one thread: parse in place, chunk by chunk.
        let mut w = Worker::new(0);
        let mut job = Some(first);
        while let Some(j) = job {
            let keep = !closed.load(Ordering::Relaxed);
            merger.merge(w.run(&j.buf[..j.len], j.index, j.last, keep));
            job = chunker.next(j.buf).map_err(io_err)?;
        }
        return merger.finish();
    }
    let read = std::thread::scope(|s| -> io::Result<()> {
        // Chunks in flight (being read, parsed, or waiting to be merged) are capped, so a
        // merge that falls behind slows the reader instead of piling up results.
        let in_flight = threads + 2;
        let (slot_tx, slot_rx) = crossbeam_channel::bounded::<()>(in_flight);
        for _ in 1..in_flight {
            let _ = slot_tx.send(());
        }
        let (work_tx, work_rx) = crossbeam_channel::bounded::<Job>(threads);
        let (pool_tx, pool_rx) = crossbeam_channel::unbounded::<Vec<u8>>();
        let (res_tx, res_rx) = crossbeam_channel::unbounded();
        let reader = s.spawn(move || -> io::Result<()> {
            let mut job = Some(first);
            while let Some(j) = job {
                if work_tx.send(j).is_err() || slot_rx.recv().is_err() {
                    return Ok(());
                }
                let buf = pool_rx.try_recv().unwrap_or_default();
                job = chunker.next(buf)?;
            }
            Ok(())
        });
        for id in 0..threads {
            let work_rx = work_rx.clone();
            let pool_tx = pool_tx.clone();
            let res_tx = res_tx.clone();
            let closed = &closed;
            s.spawn(move || {
                let mut w = Worker::new(id);
                for j in work_rx {
                    let keep = !closed.load(Ordering::Relaxed);
                    let out = w.run(&j.buf[..j.len], j.index, j.last, keep);
                    let _ = pool_tx.send(j.buf);
                    if res_tx.send(out).is_err() {
                        return;
                    }
                }
            });
        }
        drop((work_rx, pool_tx, res_tx));
        merge_in_order(res_rx, &mut merger, &slot_tx);
        reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader thread failed")))
    });
    read.map_err(io_err)?;
    merger.finish()
}

/// Where the bytes of an input held in memory come from: told which ranges the parse is
/// done with, a mapped file can release their pages.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) trait Pages: Sync {
    /// `start..end` has been read.
    fn done(&self, start: usize, end: usize);
}

/// Merges the workers' chunks in input order as they arrive, freeing a reader slot for
/// each chunk merged.
fn merge_in_order(
    results: crossbeam_channel::Receiver<worker::ChunkOut>,
    merger: &mut Merger<'_>,
    slots: &crossbeam_channel::Sender<()>,
) {
    let mut pending = BTreeMap::new();
    let mut next = 0;
    for out in results {
        pending.insert(out.index, out);
        while let Some(out) = pending.remove(&next) {
            merger.merge(out);
            next += 1;
            let _ = slots.try_send(());
        }
    }
}

/// Reads a traceback dump held in memory (a mapped file), telling `pages` which ranges
/// are read.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn parse_bytes(
    data: &[u8],
    source: &str,
    opts: &Options,
    pages: &dyn Pages,
) -> Result<Snapshot, ParseError> {
    parse_bytes_chunked(data, source, opts, CHUNK, pages)
}

fn parse_bytes_chunked(
    data: &[u8],
    source: &str,
    opts: &Options,
    chunk: usize,
    pages: &dyn Pages,
) -> Result<Snapshot, ParseError> {
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let closed = AtomicBool::new(false);
    let mut merger = Merger::new(source, opts.args_budget, &closed);
    merger.expect_len(data.len());
    let cuts = Cuts::new(data, chunk);
    if threads <= 1 || data.len() <= chunk {
        let mut w = Worker::new(0);
        for c in cuts {
            let keep = !closed.load(Ordering::Relaxed);
            merger.merge(w.run(&data[c.start..c.end], c.index, c.last, keep));
            pages.done(c.start, c.end);
        }
        return merger.finish();
    }
    let cuts = Mutex::new(cuts);
    std::thread::scope(|s| {
        // As in `parse_chunked`, chunks in flight are capped: a worker takes a slot before
        // it takes a chunk, and the merge gives the slot back.
        let (slot_tx, slot_rx) = crossbeam_channel::bounded::<()>(threads + 2);
        for _ in 0..threads + 2 {
            let _ = slot_tx.send(());
        }
        let (res_tx, res_rx) = crossbeam_channel::unbounded();
        for id in 0..threads {
            let (slot_rx, res_tx, cuts, closed) = (slot_rx.clone(), res_tx.clone(), &cuts, &closed);
            s.spawn(move || {
                let mut w = Worker::new(id);
                while slot_rx.recv().is_ok() {
                    let next = match cuts.lock() {
                        Ok(mut cuts) => cuts.next(),
                        Err(_) => None,
                    };
                    let Some(c) = next else {
                        return;
                    };
                    let keep = !closed.load(Ordering::Relaxed);
                    let out = w.run(&data[c.start..c.end], c.index, c.last, keep);
                    pages.done(c.start, c.end);
                    if res_tx.send(out).is_err() {
                        return;
                    }
                }
            });
        }
        drop(res_tx);
        merge_in_order(res_rx, &mut merger, &slot_tx);
    });
    merger.finish()
}

/// One chunk of an input held in memory: `start..end`.
struct Cut {
    index: usize,
    start: usize,
    end: usize,
    last: bool,
}

/// Cuts an input held in memory into chunks that start at a goroutine header, with the
/// same rules as [`Chunker`].
struct Cuts<'a> {
    data: &'a [u8],
    pos: usize,
    index: usize,
    chunk: usize,
    finder: memmem::FinderRev<'static>,
}

impl<'a> Cuts<'a> {
    fn new(data: &'a [u8], chunk: usize) -> Cuts<'a> {
        Cuts {
            data,
            pos: 0,
            index: 0,
            chunk: chunk.max(1),
            finder: memmem::FinderRev::new(b"\ngoroutine "),
        }
    }
}

impl Iterator for Cuts<'_> {
    type Item = Cut;

    fn next(&mut self) -> Option<Cut> {
        let (data, start) = (self.data, self.pos);
        if start >= data.len() {
            return None;
        }
        let mut size = self.chunk;
        let (end, last) = loop {
            if size >= data.len() - start {
                break (data.len(), true);
            }
            let window = &data[start..start + size];
            if let Some(split) = split_at_header(&self.finder, window) {
                break (start + split, false);
            }
            if size < MAX_CHUNK {
                // One block larger than a chunk: grow to keep it whole.
                size = (size * 2).min(MAX_CHUNK);
                continue;
            }
            let split = memchr::memrchr(b'\n', window).map_or(size, |i| i + 1);
            break (start + split, false);
        };
        self.pos = end;
        self.index += 1;
        Some(Cut {
            index: self.index - 1,
            start,
            end,
            last,
        })
    }
}

/// The start of the last goroutine header in `b` (after position 0).
fn split_at_header(finder: &memmem::FinderRev<'_>, b: &[u8]) -> Option<usize> {
    let mut end = b.len();
    while let Some(i) = finder.rfind(&b[..end]) {
        if b.get(i + 11).is_some_and(u8::is_ascii_digit) {
            return Some(i + 1);
        }
        end = i;
    }
    None
}

/// One chunk handed to a worker: `buf[..len]`.
struct Job {
    index: usize,
    buf: Vec<u8>,
    len: usize,
    last: bool,
}

/// Cuts the input into chunks that start at a goroutine header.
struct Chunker {
    input: Box<dyn BufRead + Send>,
    carry: Vec<u8>,
    chunk: usize,
    eof: bool,
    index: usize,
    finder: memmem::FinderRev<'static>,
}

impl Chunker {
    fn new(input: Box<dyn BufRead + Send>, chunk: usize) -> Chunker {
        Chunker {
            input,
            carry: Vec::new(),
            chunk: chunk.max(1),
            eof: false,
            index: 0,
            finder: memmem::FinderRev::new(b"\ngoroutine "),
        }
    }

    /// Fills `buf` with the next chunk; `None` at the end of the input.
    fn next(&mut self, mut buf: Vec<u8>) -> io::Result<Option<Job>> {
        if self.eof && self.carry.is_empty() {
            return Ok(None);
        }
        let mut target = self.carry.len() + self.chunk;
        if buf.len() < target {
            buf.resize(target, 0);
        }
        let mut len = self.carry.len();
        buf[..len].copy_from_slice(&self.carry);
        self.carry.clear();
        loop {
            while len < target && !self.eof {
                match self.input.read(&mut buf[len..target]) {
                    Ok(0) => self.eof = true,
                    Ok(n) => len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if self.eof {
                if len == 0 {
                    return Ok(None);
                }
                return Ok(Some(self.job(buf, len, true)));
            }
            if let Some(split) = self.split(&buf[..len]) {
                self.carry.extend_from_slice(&buf[split..len]);
                return Ok(Some(self.job(buf, split, false)));
            }
            if target < MAX_CHUNK {
                // One block larger than a chunk: grow to keep it whole.
                target = (target * 2).min(MAX_CHUNK);
                buf.resize(target, 0);
                continue;
            }
            let split = memchr::memrchr(b'\n', &buf[..len]).map_or(len, |i| i + 1);
            self.carry.extend_from_slice(&buf[split..len]);
            return Ok(Some(self.job(buf, split, false)));
        }
    }

    /// The start of the last goroutine header in `b` (after position 0).
    fn split(&self, b: &[u8]) -> Option<usize> {
        split_at_header(&self.finder, b)
    }

    fn job(&mut self, buf: Vec<u8>, len: usize, last: bool) -> Job {
        let index = self.index;
        self.index += 1;
        Job {
            index,
            buf,
            len,
            last,
        }
    }
}
