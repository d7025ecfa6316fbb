//! A cap on how many requests of one kind run at once, so that slow work (a slow downstream
//! service, the order route's waits) can never hold every worker thread: past the cap, a request
//! is refused at once instead of queued.

use std::sync::atomic::{AtomicUsize, Ordering};

/// At most `max` holders of a [`Permit`] at a time.
#[derive(Debug)]
pub struct Limit {
    max: usize,
    taken: AtomicUsize,
}

/// A place under a [`Limit`], given back when dropped.
#[derive(Debug)]
pub struct Permit<'a>(&'a AtomicUsize);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Limit {
    pub fn new(max: usize) -> Limit {
        Limit {
            max,
            taken: AtomicUsize::new(0),
        }
    }

    /// The most permits at a time.
    pub fn max(&self) -> usize {
        self.max
    }

    /// A permit, if one is free.
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        let before = self.taken.fetch_add(1, Ordering::AcqRel);
        let permit = Permit(&self.taken);
        (before < self.max).then_some(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_come_back_when_dropped() {
        let limit = Limit::new(2);
        let first = limit.try_acquire();
        let second = limit.try_acquire();
        assert!(first.is_some() && second.is_some());
        assert!(limit.try_acquire().is_none(), "a third is refused");
        drop(first);
        assert!(
            limit.try_acquire().is_some(),
            "a freed place is taken again"
        );
    }
}
