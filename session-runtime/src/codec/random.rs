//! Nonces: from `rand`'s thread-local CSPRNG (ChaCha12, seeded from the operating system and
//! reseeded from it periodically).
//!
//! Why not ask the OS for every nonce: a `getrandom` system call per seal cost about 400 ns on
//! the benchmark machine (see BENCHMARKS.md), more than the encryption itself; the thread's
//! generator takes a few tens of nanoseconds. Nonces are 192 bits, so random ones never repeat
//! in practice whichever CSPRNG draws them.
//!
//! After `fork()` without `exec`, the child's threads hold a copy of the parent's generator:
//! call [`reseed_after_fork`](super::reseed_after_fork) in the child before it seals anything.

use rand::RngCore as _;

/// Fills `nonce` from this thread's CSPRNG.
pub(crate) fn fill_nonce(nonce: &mut [u8]) {
    rand::rng().fill_bytes(nonce);
}

/// Reseeds this thread's generator from the OS.
pub(crate) fn reseed() -> Result<(), rand::rand_core::OsError> {
    rand::rng().reseed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_differ() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let mut nonce = [0u8; 24];
            fill_nonce(&mut nonce);
            assert!(seen.insert(nonce), "repeated nonce");
        }
    }

    #[test]
    fn threads_get_distinct_streams() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    let mut nonce = [0u8; 24];
                    fill_nonce(&mut nonce);
                    nonce
                })
            })
            .collect();
        let nonces: std::collections::HashSet<_> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(nonces.len(), 4);
    }

    #[test]
    fn reseeding_works() {
        reseed().unwrap();
        let mut nonce = [0u8; 24];
        fill_nonce(&mut nonce);
        assert_ne!(nonce, [0u8; 24]);
    }
}
