//! Nonces: a per-thread ChaCha20 generator seeded from the operating system.
//!
//! Each thread keeps a 32-byte ChaCha20 key taken from the OS CSPRNG (`getrandom`) on first
//! use. A refill produces 512 bytes of keystream; the first 32 become the next key and are
//! wiped ("fast key erasure", as in the Linux kernel's and OpenBSD's `arc4random` generators),
//! the other 480 are handed out as nonces and wiped once handed out, so a later look at the
//! thread's memory reveals neither past nonces nor the state that produced them. After 4096
//! refills (about 2 MB) the key is replaced by a fresh one from the OS.
//!
//! Why not ask the OS for every nonce: a `getrandom` system call per seal cost about 400 ns on
//! the benchmark machine (see BENCHMARKS.md), more than the encryption itself, where this
//! generator takes about 30-60 ns.
//!
//! After `fork()` without `exec`, the child's thread holds a copy of the parent thread's
//! generator: call [`reseed_after_fork`](super::reseed_after_fork) in the child before it
//! seals anything.

use std::cell::RefCell;

use chacha20::cipher::{KeyIvInit, StreamCipher};

const BUF_LEN: usize = 512;
const KEY_LEN: usize = 32;
const RESEED_AFTER_REFILLS: u32 = 4096;

struct Generator {
    key: [u8; KEY_LEN],
    buf: [u8; BUF_LEN],
    pos: usize,
    refills: u32,
}

impl Generator {
    fn from_os() -> Result<Generator, getrandom::Error> {
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key)?;
        Ok(Generator {
            key,
            buf: [0; BUF_LEN],
            pos: BUF_LEN,
            refills: 0,
        })
    }

    fn refill(&mut self) -> Result<(), getrandom::Error> {
        if self.refills >= RESEED_AFTER_REFILLS {
            *self = Generator::from_os()?;
        }
        self.buf = [0; BUF_LEN];
        chacha20::ChaCha20::new(&self.key.into(), &[0u8; 12].into()).apply_keystream(&mut self.buf);
        self.key.copy_from_slice(&self.buf[..KEY_LEN]);
        self.buf[..KEY_LEN].fill(0);
        self.pos = KEY_LEN;
        self.refills += 1;
        Ok(())
    }

    fn fill(&mut self, out: &mut [u8]) -> Result<(), getrandom::Error> {
        debug_assert!(out.len() <= BUF_LEN - KEY_LEN);
        if BUF_LEN - self.pos < out.len() {
            self.refill()?;
        }
        let end = self.pos + out.len();
        out.copy_from_slice(&self.buf[self.pos..end]);
        self.buf[self.pos..end].fill(0);
        self.pos = end;
        Ok(())
    }
}

thread_local! {
    static GENERATOR: RefCell<Option<Generator>> = const { RefCell::new(None) };
}

/// Fills `nonce` (at most 480 bytes) from this thread's generator, seeding it on first use.
pub(crate) fn fill_nonce(nonce: &mut [u8]) -> Result<(), getrandom::Error> {
    let from_generator = GENERATOR.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            if slot.is_none() {
                *slot = Some(Generator::from_os()?);
            }
            slot.as_mut().expect("just set").fill(nonce).map(|()| true)
        }
        Err(_) => Ok(false),
    });
    match from_generator {
        Ok(Ok(true)) => Ok(()),
        Ok(Err(e)) => Err(e),
        // Thread-local storage is being torn down, or re-entered: ask the OS directly.
        Ok(Ok(false)) | Err(_) => getrandom::fill(nonce),
    }
}

/// Replaces this thread's generator with a fresh one from the OS.
pub(crate) fn reseed() -> Result<(), getrandom::Error> {
    let fresh = Generator::from_os()?;
    let _ = GENERATOR.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = Some(fresh);
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_differ_and_span_refills() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let mut nonce = [0u8; 24];
            fill_nonce(&mut nonce).unwrap();
            assert!(seen.insert(nonce), "repeated nonce");
        }
    }

    #[test]
    fn reseed_changes_the_stream() {
        let mut a = [0u8; 24];
        fill_nonce(&mut a).unwrap();
        reseed().unwrap();
        let mut b = [0u8; 24];
        fill_nonce(&mut b).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn threads_get_distinct_streams() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    let mut nonce = [0u8; 24];
                    fill_nonce(&mut nonce).unwrap();
                    nonce
                })
            })
            .collect();
        let nonces: std::collections::HashSet<_> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(nonces.len(), 4);
    }

    #[test]
    fn the_buffer_is_wiped_as_it_is_used() {
        let mut generator = Generator::from_os().unwrap();
        let mut nonce = [0u8; 24];
        generator.fill(&mut nonce).unwrap();
        assert!(generator.buf[..generator.pos].iter().all(|&b| b == 0));
        assert_ne!(nonce, [0u8; 24]);
    }

    #[test]
    fn it_reseeds_from_the_os_after_many_refills() {
        let mut generator = Generator::from_os().unwrap();
        generator.refills = RESEED_AFTER_REFILLS;
        let mut nonce = [0u8; 24];
        generator.pos = BUF_LEN;
        generator.fill(&mut nonce).unwrap();
        assert_eq!(generator.refills, 1);
    }
}
