//! Large regular files are read through a memory map instead of `read()` into buffers: the
//! traceback parser's workers then cut their chunks straight from the page cache, which
//! saves copying the whole dump once, and the pages of the parsed part of the file are
//! handed back as the parse moves on, so the resident memory stays that of a few chunks
//! however large the file is.
//!
//! If another process shrinks the file while it is being read, the kernel signals SIGBUS on
//! the next read past the new end; [`super::sigbus`] turns that into an error naming the
//! file. Smaller files, pipes and gzip go through `read()`.

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::Mutex;

use memmap2::{Advice, Mmap, UncheckedAdvice};

/// Files smaller than this are read with `read()`: mapping does not pay for them.
const MIN_LEN: u64 = 16 << 20;

/// Pages are given back in runs aligned to this size (the largest page-cache folio mapped
/// by one fault on x86-64 and arm64 with 4 KiB pages).
const RELEASE_ALIGN: usize = 2 << 20;

/// A read-only map of a whole file.
pub(super) struct Mapped {
    /// Declared first, so dropped before the map.
    _shrink: super::sigbus::Guard,
    map: Mmap,
    /// What the parse is done with, and what was given back.
    done: Mutex<Done>,
}

/// The ranges of the map the parse is done with: `released..upto` is done and still
/// mapped; `ahead` holds the done ranges past `upto` (chunks finished out of order).
#[derive(Default)]
struct Done {
    released: usize,
    upto: usize,
    ahead: BTreeMap<usize, usize>,
}

impl Done {
    /// Records that `start..end` of a map of `len` bytes is done; returns the range to give
    /// back now, if any.
    fn finish(&mut self, start: usize, end: usize, len: usize) -> Option<(usize, usize)> {
        self.ahead.insert(start, end);
        while let Some(end) = self.ahead.remove(&self.upto) {
            self.upto = end;
        }
        let to = if self.upto >= len {
            len
        } else {
            self.upto / RELEASE_ALIGN * RELEASE_ALIGN
        };
        let from = self.released;
        (to > from).then(|| {
            self.released = to;
            (from, to)
        })
    }
}

impl Mapped {
    /// Maps `file` (named `path` in errors) when it is a regular file of at least
    /// [`MIN_LEN`] bytes; `None` when it is not, or when mapping fails (the caller then
    /// reads it).
    pub fn new(file: &File, path: &str) -> Option<Mapped> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() < MIN_LEN || usize::try_from(meta.len()).is_err() {
            return None;
        }
        // SAFETY: the map is only read. Its contents change only if another process writes
        // the file meanwhile (then the parse sees some mix of old and new text, still only
        // bytes) or truncates it (see the module docs).
        let map = unsafe { Mmap::map(file) }.ok()?;
        let shrink = super::sigbus::Guard::new(path, map.as_ptr(), map.len());
        // SAFETY: sysconf only reads a system constant.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
            .ok()
            .filter(|p| p.is_power_of_two())?;
        if RELEASE_ALIGN % page != 0 {
            return None;
        }
        // When the whole file is in the page cache already, the kernel's read-ahead on
        // page faults would only repeat page cache lookups: it is turned off. A file that
        // is not all cached keeps it, so that it is read from disk in large requests.
        if looks_cached(&map, page) {
            // Advice only: a failure changes nothing else.
            let _ = map.advise(Advice::Random);
        }
        Some(Mapped {
            _shrink: shrink,
            map,
            done: Mutex::new(Done::default()),
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

/// Pages of a file looked at to judge whether it is all in the page cache.
const SAMPLES: usize = 256;

/// Whether `map` looks wholly in the page cache: [`SAMPLES`] pages spread evenly over it,
/// the first and the last are. (Asking for every page costs 15 ms on a 1 GB file, more
/// than read-ahead would.) A file evicted in part loses whole ranges, which the samples
/// see; a miss only means that pages are read as they are touched.
fn looks_cached(map: &Mmap, page: usize) -> bool {
    let pages = map.len().div_ceil(page);
    (0..=SAMPLES).all(|i| {
        let p = (pages - 1) * i / SAMPLES;
        let mut resident = 0u8;
        // SAFETY: the page lies inside the live map, and mincore writes one byte for it.
        let ok = unsafe {
            libc::mincore(
                map.as_ptr().add(p * page) as *mut libc::c_void,
                1,
                &mut resident,
            )
        } == 0;
        ok && resident & 1 == 1
    })
}

impl super::traceback::Pages for Mapped {
    /// Gives back the memory pages of the file's start that the parse is done with, in
    /// runs aligned to [`RELEASE_ALIGN`]: reading them again would only fault them back in
    /// from the page cache.
    ///
    /// Only the done prefix is given back, and only up to an aligned offset, because a page
    /// fault maps a whole page-cache folio (up to 2 MiB of a file written just before):
    /// releasing the part of a folio that a chunk still being read shares with a finished
    /// one would be undone by that chunk's next fault, and those pages would stay mapped
    /// to the end of the parse.
    fn done(&self, start: usize, end: usize) {
        let release = match self.done.lock() {
            Ok(mut d) => d.finish(start, end, self.map.len()),
            Err(_) => None,
        };
        if let Some((from, to)) = release {
            // SAFETY: the map is private and never written, so dropping its pages loses
            // nothing: a later read refaults the file's bytes. The result is ignored
            // because a failure only means the pages stay resident.
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(UncheckedAdvice::DontNeed, from, to - from)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use memmap2::Mmap;

    use super::{Done, MIN_LEN, RELEASE_ALIGN, looks_cached};

    #[test]
    fn pages_are_given_back_for_the_done_prefix_in_aligned_runs() {
        const M: usize = RELEASE_ALIGN;
        let len = 10 * M + 5;
        let mut d = Done::default();
        // The second chunk finishes first: nothing before it is done.
        assert_eq!(d.finish(3 * M + 7, 5 * M + 1, len), None);
        // The first chunk: the prefix now ends inside the sixth run, so five are given.
        assert_eq!(d.finish(0, 3 * M + 7, len), Some((0, 5 * M)));
        assert_eq!(d.finish(5 * M + 1, 5 * M + 9, len), None);
        assert_eq!(d.finish(5 * M + 9, 7 * M, len), Some((5 * M, 7 * M)));
        // The last chunk gives back everything, unaligned end included.
        assert_eq!(d.finish(7 * M, len, len), Some((7 * M, len)));
    }
    use crate::parse::{Options, parse_path, parse_reader};

    /// Pages of `map[from..to]` in the page cache (every one asked).
    fn resident(map: &Mmap, from: usize, to: usize) -> usize {
        let mut v = vec![0u8; (to - from) / 4096];
        // SAFETY: the range lies inside the live map; one byte per page.
        let rc = unsafe {
            libc::mincore(
                map.as_ptr().add(from) as *mut libc::c_void,
                to - from,
                v.as_mut_ptr(),
            )
        };
        assert_eq!(rc, 0);
        v.iter().filter(|b| *b & 1 == 1).count()
    }

    #[test]
    fn a_file_partly_evicted_from_the_page_cache_does_not_look_cached() {
        use std::os::fd::AsRawFd;
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&vec![b'x'; 8 << 20]).unwrap();
        file.as_file().sync_all().unwrap();
        // SAFETY: the test's own file, only read.
        let map = unsafe { Mmap::map(file.as_file()) }.unwrap();
        assert!(looks_cached(&map, 4096));
        // The file is clean after the sync, so the kernel may drop its second half.
        // SAFETY: plain advice on an open descriptor.
        unsafe {
            libc::posix_fadvise(
                file.as_file().as_raw_fd(),
                4 << 20,
                4 << 20,
                libc::POSIX_FADV_DONTNEED,
            )
        };
        // Where files live in memory (tmpfs), nothing can be dropped: nothing to judge.
        if resident(&map, 4 << 20, 8 << 20) == 0 {
            assert!(!looks_cached(&map, 4096));
        }
    }

    #[test]
    fn a_large_dump_file_reads_like_a_stream() {
        // Hand-written blocks repeated past the size from which files are mapped, after a
        // crash preamble and ending in a cut block.
        let mut text = String::from("panic: boom\n\n");
        let mut i = 0;
        while text.len() < MIN_LEN as usize + 4096 {
            let status = ["chan receive", "select, 3 minutes", "IO wait"][i % 3];
            text.push_str(&format!(
                "goroutine {} [{status}]:\nmain.worker{}(0xc{:09x}, 0x{:x})\n\t/src/app/main.go:{} +0x1d\nmain.run(...)\n\t/src/app/main.go:9\ncreated by main.main in goroutine 1\n\t/src/app/main.go:20 +0x66\n\n",
                i + 2,
                i % 4,
                i * 77,
                i % 300,
                100 + i % 5
            ));
            i += 1;
        }
        text.push_str("goroutine 1 [running]:\nmain.main(0x1)\n");
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let path = file.path().to_str().unwrap();
        let mapped = parse_path(path, &Options::default()).unwrap();
        let stream = std::fs::File::open(path).unwrap();
        let streamed = parse_reader(Box::new(stream), path, &Options::default()).unwrap();
        assert_eq!(mapped.goroutines.len(), i + 1);
        assert!(
            mapped
                .warnings
                .iter()
                .any(|w| w.message.contains("truncated"))
        );
        assert_eq!(format!("{mapped:?}"), format!("{streamed:?}"));
    }
}
