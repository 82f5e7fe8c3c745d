//! Large regular files are read through a memory map instead of `read()` into buffers: the
//! traceback parser's workers then cut their chunks straight from the page cache, which
//! saves copying the whole dump once, and the pages of each parsed chunk are handed back at
//! once, so the resident memory stays that of a few chunks however large the file is.
//!
//! If another process shrinks the file while it is being read, the kernel stops the
//! program (SIGBUS) instead of returning an error; a dump being rewritten in place is rare,
//! and smaller files, pipes and gzip still go through `read()`.

use std::fs::File;

use memmap2::{Mmap, UncheckedAdvice};

/// Files smaller than this are read with `read()`: mapping does not pay for them.
const MIN_LEN: u64 = 16 << 20;

/// A read-only map of a whole file.
pub(super) struct Mapped {
    map: Mmap,
    /// The memory page size.
    page: usize,
}

impl Mapped {
    /// Maps `file` when it is a regular file of at least [`MIN_LEN`] bytes; `None` when it
    /// is not, or when mapping fails (the caller then reads it).
    pub fn new(file: &File) -> Option<Mapped> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() < MIN_LEN || usize::try_from(meta.len()).is_err() {
            return None;
        }
        // SAFETY: the map is only read. Its contents change only if another process writes
        // the file meanwhile (then the parse sees some mix of old and new text, still only
        // bytes) or truncates it (see the module docs).
        let map = unsafe { Mmap::map(file) }.ok()?;
        // SAFETY: sysconf only reads a system constant.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
            .ok()
            .filter(|p| p.is_power_of_two())?;
        Some(Mapped { map, page })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

impl super::traceback::Pages for Mapped {
    /// Gives back the memory pages that lie wholly inside `start..end`: the parse is done
    /// with them. Reading them again would only fault them back in from the page cache.
    fn done(&self, start: usize, end: usize) {
        // Whole pages, rounded outwards: a page shared with the neighbouring chunk may be
        // dropped while that chunk is still being read, which costs it one refault.
        let from = start / self.page * self.page;
        let to = end.next_multiple_of(self.page).min(self.map.len());
        if to > from {
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

    use super::MIN_LEN;
    use crate::parse::{Options, parse_path, parse_reader};

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
