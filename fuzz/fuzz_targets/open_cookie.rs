//! Arbitrary bytes as a cookie value, opened by a codec of every mode (with and without
//! compression and `accept_legacy`), then decoded as the engine decodes a session.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_fuzz_harness as harness;

static CODECS: OnceLock<harness::Codecs> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let codecs = CODECS.get_or_init(harness::Codecs::new);
    harness::open_cookie(codecs, data);
});
