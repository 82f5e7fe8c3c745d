//! The argument lists kept for a snapshot's goroutines: one string per frame, as the dump
//! printed it (`0xc000123450, 0x3`). Every word of every list lives in one buffer, so
//! keeping a list costs its bytes plus an offset per frame, and no allocation of its own.

use std::fmt;
use std::hash::{Hash, Hasher};

use super::ArgsId;

/// Every kept argument list, addressed by [`ArgsId`].
#[derive(Clone, PartialEq, Eq)]
pub struct ArgLists {
    /// All frames' argument text, end to end.
    text: String,
    /// Where each frame's text ends in `text`.
    ends: Vec<u32>,
    /// Where each list's first entry is in `ends`, plus one past the last list.
    lists: Vec<u32>,
}

impl Default for ArgLists {
    fn default() -> Self {
        ArgLists {
            text: String::new(),
            ends: Vec::new(),
            lists: vec![0],
        }
    }
}

impl ArgLists {
    /// The number of lists.
    pub fn len(&self) -> usize {
        self.lists.len() - 1
    }

    /// Makes room for `text` more bytes of argument text in `frames` more frames.
    pub fn reserve(&mut self, text: usize, frames: usize) {
        self.text.reserve_exact(text);
        self.ends.reserve_exact(frames);
    }

    /// The heap buffers of the text and of the frame offsets, as (address, capacity in
    /// bytes), for memory advice.
    pub(crate) fn buffers(&self) -> [(usize, usize); 2] {
        [
            (self.text.as_ptr() as usize, self.text.capacity()),
            (self.ends.as_ptr() as usize, self.ends.capacity() * 4),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The list `id`, if there is one.
    pub fn get(&self, id: ArgsId) -> Option<Args<'_>> {
        let id = id as usize;
        let (&first, &end) = (self.lists.get(id)?, self.lists.get(id + 1)?);
        let start = match first {
            0 => 0,
            i => self.ends[i as usize - 1],
        };
        Some(Args {
            text: &self.text,
            start,
            ends: &self.ends[first as usize..end as usize],
        })
    }

    /// Every list, in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Args<'_>> + '_ {
        (0..self.len() as ArgsId).map(|id| self.get(id).unwrap_or_default())
    }

    /// Adds a list of one string per frame and returns its id, or `None` when the buffer
    /// would pass 4 GiB (the offsets are 32-bit).
    pub fn push<'s>(&mut self, frames: impl IntoIterator<Item = &'s str>) -> Option<ArgsId> {
        let (text_len, ends_len) = (self.text.len(), self.ends.len());
        for s in frames {
            self.text.push_str(s);
            match u32::try_from(self.text.len()) {
                Ok(end) => self.ends.push(end),
                Err(_) => {
                    self.text.truncate(text_len);
                    self.ends.truncate(ends_len);
                    return None;
                }
            }
        }
        let id = ArgsId::try_from(self.len()).ok()?;
        self.lists.push(self.ends.len() as u32);
        Some(id)
    }

    /// Adds a list whose frames are the `(start, len)` spans of `text`, and returns its id
    /// (`None` as for [`ArgLists::push`]). Spans that follow each other in `text` are
    /// copied at once.
    pub fn push_spans(&mut self, text: &str, spans: &[(u32, u32)]) -> Option<ArgsId> {
        let piece = |&(s, l): &(u32, u32)| text.get(s as usize..(s + l) as usize);
        let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
            return self.push([]);
        };
        let (from, to) = (first.0, last.0 + last.1);
        let adjoining = spans.windows(2).all(|w| w[0].0 + w[0].1 == w[1].0);
        let (Some(whole), true) = (text.get(from as usize..to as usize), adjoining) else {
            return self.push(spans.iter().map(|s| piece(s).unwrap_or_default()));
        };
        let base = u32::try_from(self.text.len()).ok()?;
        base.checked_add(to - from)?;
        self.text.push_str(whole);
        self.ends
            .extend(spans.iter().map(|&(s, l)| base + (s + l - from)));
        let id = ArgsId::try_from(self.len()).ok()?;
        self.lists.push(self.ends.len() as u32);
        Some(id)
    }

    /// The heap bytes a list adds, given the lengths of its frames' text: the text, an
    /// offset per frame and one per list.
    pub fn cost(frame_lens: impl IntoIterator<Item = usize>) -> usize {
        frame_lens.into_iter().map(|l| l + 4).sum::<usize>() + 4
    }
}

impl fmt::Debug for ArgLists {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One goroutine's argument list: the text of each frame's arguments, innermost first.
#[derive(Clone, Copy, Default)]
pub struct Args<'a> {
    text: &'a str,
    start: u32,
    ends: &'a [u32],
}

impl<'a> Args<'a> {
    /// The number of frames.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The arguments of frame `i`.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        let end = *self.ends.get(i)?;
        let start = match i {
            0 => self.start,
            i => self.ends[i - 1],
        };
        self.text.get(start as usize..end as usize)
    }

    /// The frames' arguments, innermost first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a str> + 'a {
        let this = *self;
        (0..self.len()).map(move |i| this.get(i).unwrap_or_default())
    }
}

impl PartialEq for Args<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Args<'_> {}

impl Hash for Args<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_usize(self.len());
        for s in self.iter() {
            s.hash(h);
        }
    }
}

impl fmt::Debug for Args<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::ArgLists;

    #[test]
    fn lists_come_back_as_pushed() {
        let mut a = ArgLists::default();
        assert_eq!(a.push(["0xc000010000, 0x3", "", "{0x1, 0x2}"]), Some(0));
        assert_eq!(a.push([]), Some(1));
        assert_eq!(a.push(["0x2a", "…"]), Some(2));
        assert_eq!(a.len(), 3);
        let first = a.get(0).unwrap();
        assert_eq!(
            first.iter().collect::<Vec<_>>(),
            ["0xc000010000, 0x3", "", "{0x1, 0x2}"]
        );
        assert_eq!(first.get(2), Some("{0x1, 0x2}"));
        assert_eq!(first.get(3), None);
        assert!(a.get(1).unwrap().is_empty());
        assert_eq!(a.get(2).unwrap().iter().collect::<Vec<_>>(), ["0x2a", "…"]);
        assert!(a.get(3).is_none());
        assert_eq!(a.iter().map(|l| l.len()).collect::<Vec<_>>(), [3, 0, 2]);
    }

    #[test]
    fn spans_of_a_text_make_the_same_lists_as_pieces() {
        let text = "0x1, 0x2...{0x3}0xé";
        let mut a = ArgLists::default();
        // Adjoining spans, then spans with a gap and out of order.
        a.push_spans(text, &[(0, 8), (8, 3), (11, 5)]);
        a.push_spans(text, &[(11, 5), (0, 3)]);
        a.push_spans(text, &[(16, 4)]);
        a.push_spans(text, &[]);
        let lists: Vec<Vec<&str>> = a.iter().map(|l| l.iter().collect()).collect();
        assert_eq!(
            lists,
            [
                vec!["0x1, 0x2", "...", "{0x3}"],
                vec!["{0x3}", "0x1"],
                vec!["0xé"],
                vec![]
            ]
        );
    }

    #[test]
    fn equal_lists_compare_equal_across_ids() {
        let mut a = ArgLists::default();
        a.push(["0x1", "0x2"]);
        a.push(["0x1", "0x2"]);
        a.push(["0x10x2"]);
        assert_eq!(a.get(0), a.get(1));
        assert_ne!(a.get(0), a.get(2));
    }
}
