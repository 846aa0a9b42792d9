//! The reconnection delay: the spec's reconnection time for the first attempt
//! after a healthy stream, then exponential growth with jitter up to a cap.
//!
//! The randomness comes from a seed the shell passes in (the core has no entropy
//! source), stepped with splitmix64, so tests pin it and get exact delays.

/// Delay before reconnection attempt `attempt` (1-based), in milliseconds.
///
/// `base` is the reconnection time; attempt 1 waits exactly `base`; attempt `n`
/// waits `base * 2^(n-1)` capped at `max(cap, base)`, and with `jitter` a random
/// point in the upper half of that (so waits still grow, but clients spread out).
pub(super) fn delay(base: u64, cap: u64, attempt: u32, jitter: bool, rng: &mut u64) -> u64 {
    if attempt <= 1 {
        return base;
    }
    let cap = cap.max(base);
    let grown = base.saturating_mul(1u64 << (attempt - 1).min(32)).min(cap);
    if !jitter || grown < 2 {
        return grown;
    }
    let half = grown / 2;
    grown - half + next(rng) % (half + 1)
}

/// splitmix64: tiny, well mixed, and enough for spreading reconnections.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_without_jitter() {
        let mut rng = 0;
        let got: alloc::vec::Vec<u64> = (1..=6)
            .map(|n| delay(100, 1000, n, false, &mut rng))
            .collect();
        assert_eq!(got, [100, 200, 400, 800, 1000, 1000]);
        // A server retry above the cap is honoured.
        assert_eq!(delay(5000, 1000, 3, false, &mut rng), 5000);
        assert_eq!(delay(100, 1000, 200, false, &mut rng), 1000);
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let mut rng = 7;
        for n in 2..40 {
            let d = delay(100, 10_000, n, true, &mut rng);
            let full = (100u64 << (n - 1).min(32)).min(10_000);
            assert!(d >= full / 2 && d <= full, "{n}: {d} vs {full}");
        }
        assert_eq!(delay(100, 10_000, 1, true, &mut rng), 100);
    }
}
