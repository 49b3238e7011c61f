//! Optional zstd compression of the body, bounded on the way back.
//!
//! A body is compressed only when the zstd frame is smaller than the body itself (below a few
//! hundred bytes of JSON it rarely is). Decompression never allocates past a bound: the frame
//! header's declared content size is checked first, a value must be exactly one frame, and
//! the decompressor writes into a buffer of at most the bound.
//!
//! ```
//! use session_runtime::codec::compress;
//!
//! let body = br#"{"items":["aaaa","aaaa","aaaa","aaaa","aaaa","aaaa","aaaa","aaaa"]}"#;
//! let frame = compress::compress(body, 3).unwrap().expect("repetitive JSON shrinks");
//! assert!(frame.len() < body.len());
//! assert_eq!(compress::decompress(&frame, 1024).unwrap(), body);
//! assert_eq!(
//!     compress::decompress(&frame, 10).unwrap_err(),
//!     session_runtime::codec::OpenError::TooLarge
//! );
//! ```

use std::cell::RefCell;
use std::io;

use super::OpenError;

thread_local! {
    static COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The zstd levels accepted: 1 to 22 (0 means off and is handled by the caller).
pub const LEVELS: std::ops::RangeInclusive<i32> = 1..=22;

/// Compresses `body` at `level` into one zstd frame that records the content size; `None` when
/// the frame would not be smaller than `body`.
///
/// The compression context is kept per thread and reused.
pub fn compress(body: &[u8], level: i32) -> io::Result<Option<Vec<u8>>> {
    let frame = COMPRESSOR.with(|cell| -> io::Result<Vec<u8>> {
        let mut slot = cell.try_borrow_mut().map_err(io::Error::other)?;
        match &mut *slot {
            Some((current, compressor)) => {
                if *current != level {
                    compressor.set_compression_level(level)?;
                    *current = level;
                }
            }
            None => *slot = Some((level, zstd::bulk::Compressor::new(level)?)),
        }
        let (_, compressor) = slot.as_mut().expect("just set");
        compressor.compress(body)
    })?;
    Ok((frame.len() < body.len()).then_some(frame))
}

/// Decompresses exactly one zstd frame into at most `max` bytes.
///
/// A frame that declares a larger content size fails with [`OpenError::TooLarge`] before any
/// output buffer is allocated. A frame without a declared size is decompressed in one pass
/// into a buffer of `max` bytes (one-pass decompression needs no window buffer besides the
/// output) and fails with [`OpenError::TooLarge`] as soon as the output would pass it.
/// Anything that is not exactly one well-formed frame fails with [`OpenError::Decompress`].
pub fn decompress(frame: &[u8], max: usize) -> Result<Vec<u8>, OpenError> {
    let declared =
        zstd::zstd_safe::get_frame_content_size(frame).map_err(|_| OpenError::Decompress)?;
    match zstd::zstd_safe::find_frame_compressed_size(frame) {
        Ok(len) if len == frame.len() => {}
        _ => return Err(OpenError::Decompress),
    }
    let capacity = match declared {
        Some(size) if size > max as u64 => return Err(OpenError::TooLarge),
        Some(size) => size as usize,
        None => max,
    };
    let out = DECOMPRESSOR.with(|cell| -> Result<Vec<u8>, OpenError> {
        let mut slot = cell.try_borrow_mut().map_err(|_| OpenError::Decompress)?;
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new().map_err(|_| OpenError::Decompress)?);
        }
        let decompressor = slot.as_mut().expect("just set");
        decompressor
            .decompress(frame, capacity)
            .map_err(|e| too_small_or_invalid(&e))
    })?;
    if declared.is_some_and(|size| size != out.len() as u64) {
        return Err(OpenError::Decompress);
    }
    Ok(out)
}

/// zstd reports an output past the buffer as "Destination buffer is too small".
fn too_small_or_invalid(error: &io::Error) -> OpenError {
    let code = zstd::zstd_safe::zstd_sys::ZSTD_ErrorCode::ZSTD_error_dstSize_tooSmall as usize;
    let name = zstd::zstd_safe::get_error_name(code.wrapping_neg());
    if error.to_string() == name {
        OpenError::TooLarge
    } else {
        OpenError::Decompress
    }
}
