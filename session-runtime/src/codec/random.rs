//! Nonces: 24 bytes from the operating system's CSPRNG for every value.

/// Fills `nonce` from the OS CSPRNG (`getrandom`).
pub(crate) fn fill_nonce(nonce: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(nonce)
}
