//! Time as the per-packet logic sees it: milliseconds from an injectable clock.
//!
//! Cores read the TSC once per loop iteration and convert it here; tests pass any value
//! they like. Nothing on the per-packet path makes a syscall for the time.

/// Milliseconds since an arbitrary start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    pub fn saturating_sub(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    pub fn plus_secs(self, secs: u64) -> Millis {
        Millis(self.0.saturating_add(secs.saturating_mul(1000)))
    }
}

/// Converts TSC readings to [`Millis`].
#[derive(Debug, Clone, Copy)]
pub struct TscClock {
    start: u64,
    ticks_per_ms: u64,
}

impl TscClock {
    pub fn new(start_tsc: u64, tsc_hz: u64) -> TscClock {
        TscClock { start: start_tsc, ticks_per_ms: (tsc_hz / 1000).max(1) }
    }

    #[inline]
    pub fn millis(&self, tsc: u64) -> Millis {
        Millis(tsc.saturating_sub(self.start) / self.ticks_per_ms)
    }
}

/// A token bucket for things a packet can trigger (ICMP errors, ARP requests, logs).
#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_sec: u64,
    burst: u64,
    /// Tokens scaled by 1000 so refills at millisecond granularity stay exact.
    milli_tokens: u64,
    last: Millis,
}

impl TokenBucket {
    pub fn new(per_sec: u64, burst: u64) -> TokenBucket {
        TokenBucket { per_sec, burst, milli_tokens: burst * 1000, last: Millis(0) }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Millis) -> bool {
        let elapsed = now.saturating_sub(self.last);
        self.last = self.last.max(now);
        self.milli_tokens = (self.milli_tokens + elapsed * self.per_sec).min(self.burst * 1000);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

/// A seed that differs from run to run (and process to process), for what must not be
/// predictable from outside: NAT ports, translated Call IDs, the session index's hash.
/// Two calls never return the same seed (a count is mixed in with the time).
pub fn run_seed() -> u64 {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let h =
        (nanos ^ (u64::from(std::process::id()) << 40)).wrapping_add(n.wrapping_mul(0xd1b5_4a32_d192_ed03));
    let h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_rate() {
        let mut b = TokenBucket::new(10, 2);
        assert!(b.take(Millis(0)));
        assert!(b.take(Millis(0)));
        assert!(!b.take(Millis(0)));
        assert!(!b.take(Millis(50)));
        assert!(b.take(Millis(100)));
        assert!(!b.take(Millis(100)));
        assert!(b.take(Millis(10_000)));
        assert!(b.take(Millis(10_000)));
        assert!(!b.take(Millis(10_000)));
    }

    #[test]
    fn tsc_converts() {
        let c = TscClock::new(1000, 2_000_000_000);
        assert_eq!(c.millis(1000 + 4_000_000), Millis(2));
        assert_eq!(c.millis(0), Millis(0));
    }
}
