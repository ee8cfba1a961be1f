//! `InlineVec`: the first `N` items in place, more on the heap. A request head (its
//! bytes and header positions) usually fits, so it costs no allocation of its own.

/// Up to `N` copies of `T` stored inline; beyond that, all of them on the heap.
pub(crate) struct InlineVec<T: Copy + Default, const N: usize> {
    inline: [T; N],
    len: usize,
    heap: Vec<T>,
}

impl<T: Copy + Default, const N: usize> InlineVec<T, N> {
    pub(crate) fn new() -> Self {
        InlineVec {
            inline: [T::default(); N],
            len: 0,
            heap: Vec::new(),
        }
    }

    pub(crate) fn from_slice(items: &[T]) -> Self {
        let mut v = Self::new();
        if items.len() <= N {
            v.inline[..items.len()].copy_from_slice(items);
            v.len = items.len();
        } else {
            v.heap = items.to_vec();
        }
        v
    }

    pub(crate) fn push(&mut self, item: T) {
        if self.heap.is_empty() && self.len < N {
            self.inline[self.len] = item;
            self.len += 1;
            return;
        }
        if self.heap.is_empty() {
            self.heap.extend_from_slice(&self.inline[..self.len]);
        }
        self.heap.push(item);
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_to_the_heap_in_order() {
        let mut v: InlineVec<u32, 2> = InlineVec::new();
        for i in 0..5 {
            v.push(i);
        }
        assert_eq!(v.as_slice(), &[0, 1, 2, 3, 4]);
        assert_eq!(InlineVec::<u8, 4>::from_slice(b"abc").as_slice(), b"abc");
        assert_eq!(InlineVec::<u8, 2>::from_slice(b"abc").as_slice(), b"abc");
    }
}
