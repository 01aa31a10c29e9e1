//! A value the control plane replaces and the cores pick up between bursts (the ruleset
//! for the workers, the ALG limits for the slow path).
//!
//! One store reaches every reader, so a reload is in force everywhere or nowhere. (Sent
//! through each worker's bounded inbox, new rules could land on some workers and be
//! refused by a full one, leaving the workers on different policies.) A reader looks at a
//! generation number once per poll loop, one atomic load; only when it moved does it take
//! the lock to clone the value, so the lock is taken once per reader per publication,
//! never per packet, and contends only with the control plane.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Published<T> {
    generation: AtomicU64,
    value: Mutex<Arc<T>>,
}

impl<T> Published<T> {
    pub fn new(value: Arc<T>) -> Arc<Published<T>> {
        Arc::new(Published { generation: AtomicU64::new(0), value: Mutex::new(value) })
    }

    /// Replaces the value; every reader runs it from its next poll loop on.
    pub fn publish(&self, value: Arc<T>) {
        *self.lock() = value;
        // After the store: a reader that sees the new generation finds the new value.
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// A reader that has seen the value published so far.
    pub fn reader(self: &Arc<Self>) -> Reader<T> {
        Reader { seen: self.generation.load(Ordering::Acquire), source: self.clone() }
    }

    /// The value now.
    pub fn current(&self) -> Arc<T> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Arc<T>> {
        // The lock guards one Arc store or clone, which cannot panic halfway: a poisoned
        // lock still holds a whole value.
        self.value.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One core's view of a [`Published`] value.
pub struct Reader<T> {
    source: Arc<Published<T>>,
    seen: u64,
}

impl<T> Reader<T> {
    /// The newest value, if one was published since the last call.
    #[inline]
    pub fn changed(&mut self) -> Option<Arc<T>> {
        let generation = self.source.generation.load(Ordering::Acquire);
        if generation == self.seen {
            return None;
        }
        self.seen = generation;
        Some(self.source.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reader_sees_the_newest_value_once() {
        let p = Published::new(Arc::new(1));
        let mut readers: Vec<Reader<i32>> = (0..3).map(|_| p.reader()).collect();
        assert!(readers.iter_mut().all(|r| r.changed().is_none()), "nothing new at first");
        p.publish(Arc::new(2));
        p.publish(Arc::new(3));
        for r in &mut readers {
            assert_eq!(r.changed().as_deref(), Some(&3), "the newest, not the one in between");
            assert_eq!(r.changed(), None, "and only once");
        }
    }

    #[test]
    fn a_reader_on_another_thread_ends_on_the_last_value() {
        let p = Published::new(Arc::new(0u32));
        let mut r = p.reader();
        let writer = {
            let p = p.clone();
            std::thread::spawn(move || (1..=10_000).for_each(|v| p.publish(Arc::new(v))))
        };
        let mut last = 0;
        while !writer.is_finished() {
            if let Some(v) = r.changed() {
                assert!(*v >= last, "values never go back");
                last = *v;
            }
        }
        writer.join().unwrap();
        if let Some(v) = r.changed() {
            last = *v;
        }
        assert_eq!(last, 10_000);
    }
}
