//! Arbitrary bytes as a stored session: a file read by the files store, then decoded as the
//! engine decodes a record; and a cookie body through `StoredFields::parse` and
//! `decode_fields`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_fuzz_harness as harness;

static FILES: OnceLock<harness::FilesHarness> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let files = FILES.get_or_init(harness::FilesHarness::new);
    harness::decode_record(files, data);
});
