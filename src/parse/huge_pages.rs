//! Asks the kernel to back the large tables a parse fills (a million goroutine records is
//! 56 MB) with huge pages where it can: one fault then fills 2 MiB instead of 4 KiB, which
//! saves thousands of page faults on the merging thread. Only advice: where huge pages are
//! off or unavailable nothing changes, and the memory used is the same within one page.

/// Advises huge pages for the heap buffer of `v` (Linux; elsewhere nothing happens).
pub(crate) fn advise<T>(v: &Vec<T>) {
    advise_buffer(
        v.as_ptr() as usize,
        v.capacity().saturating_mul(std::mem::size_of::<T>()),
    );
}

/// Advises huge pages for the `bytes` bytes of a heap buffer at `start`.
pub(crate) fn advise_buffer(start: usize, bytes: usize) {
    // Below a huge page the advice cannot apply.
    if bytes >= HUGE {
        advise_range(start, bytes);
    }
}

/// The huge page size on x86_64 and aarch64 with 4 KiB pages.
const HUGE: usize = 2 << 20;

#[cfg(target_os = "linux")]
fn advise_range(start: usize, len: usize) {
    // madvise wants page-aligned ranges: the whole pages inside the buffer.
    const PAGE: usize = 4096;
    let from = start.next_multiple_of(PAGE);
    let to = (start + len) / PAGE * PAGE;
    if to > from {
        // SAFETY: the range lies inside a live allocation the caller owns, and
        // MADV_HUGEPAGE changes no contents, only how later faults are served. A failure
        // (huge pages disabled, say) leaves things as they were, so it is ignored.
        let _ = unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_range(_start: usize, _len: usize) {}
