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
//!
//! # Dictionaries
//!
//! Below a few hundred bytes a frame has too little context of its own to compress well. A
//! zstd dictionary trained on sample sessions supplies it: the field names, token prefixes and
//! recurring values are in the dictionary, not repeated in every cookie. A [`Dictionary`] is
//! prepared once ([`PreparedDictionary::new`], done by `Codec::new`), never per value. Only
//! dictionaries in zstd's own format (the magic number `0xEC30A437` followed by a non-zero
//! dictionary id, as `zstd --train` and `zstd::dict::from_samples` write them) are accepted:
//! every frame compressed with one records that id, and opening checks it, so a value
//! compressed with another dictionary fails cleanly instead of decoding into garbage.
//!
//! ```
//! use session_runtime::codec::compress::{self, Dictionary, PreparedDictionary};
//!
//! // A real dictionary comes from sample sessions (see the `train_dictionary` example).
//! let samples: Vec<Vec<u8>> = (0..400)
//!     .map(|i| format!(r#"{{"user_id":{i},"locale":"en-GB","cart":[{{"sku":"SKU-{}","qty":{}}}]}}"#, i * 7, i % 5).into_bytes())
//!     .collect();
//! let bytes = zstd::dict::from_samples(&samples, 4096)?;
//! let dictionary = PreparedDictionary::new(&Dictionary::from(bytes), 3)?;
//!
//! let body = br#"{"user_id":4242,"locale":"en-GB","cart":[{"sku":"SKU-99","qty":2}]}"#;
//! let frame = compress::compress_with_dictionary(body, &dictionary)?.expect("smaller");
//! assert_eq!(compress::decompress_with_dictionary(&frame, 1024, &dictionary)?, body);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::num::NonZeroU32;
use std::sync::Arc;

use zstd::zstd_safe::{CCtx, CDict, DCtx, DDict};

use super::OpenError;

thread_local! {
    static COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
    // Contexts for the dictionary paths. The prepared dictionary is passed on each call
    // (`ZSTD_compress_usingCDict`, `ZSTD_decompress_usingDDict`), so one context per thread
    // serves every codec and dictionary.
    static DICT_CCTX: RefCell<Option<CCtx<'static>>> = const { RefCell::new(None) };
    static DICT_DCTX: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// The first four bytes of a dictionary in zstd's format, little-endian.
pub const DICTIONARY_MAGIC: u32 = 0xEC30_A437;

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
    let (declared, capacity) = bounds(frame, max)?;
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

/// The declared content size of a frame that must be exactly one frame, and the output
/// capacity to decompress it into (never more than `max`).
fn bounds(frame: &[u8], max: usize) -> Result<(Option<u64>, usize), OpenError> {
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
    Ok((declared, capacity))
}

/// zstd reports an output past the buffer as "Destination buffer is too small".
fn too_small_or_invalid(error: &io::Error) -> OpenError {
    if error.to_string() == dst_too_small_name() {
        OpenError::TooLarge
    } else {
        OpenError::Decompress
    }
}

/// The same, from zstd's error code.
fn code_to_open_error(code: usize) -> OpenError {
    if zstd::zstd_safe::get_error_name(code) == dst_too_small_name() {
        OpenError::TooLarge
    } else {
        OpenError::Decompress
    }
}

fn dst_too_small_name() -> &'static str {
    let code = zstd::zstd_safe::zstd_sys::ZSTD_ErrorCode::ZSTD_error_dstSize_tooSmall as usize;
    zstd::zstd_safe::get_error_name(code.wrapping_neg())
}

/// The bytes of a zstd dictionary, shared and cheap to clone.
///
/// This is what [`CodecOptions::compression_dictionary`](super::CodecOptions) holds; the codec
/// prepares it once. `Debug` shows the length and the dictionary id, not the bytes.
///
/// ```
/// use session_runtime::codec::compress::Dictionary;
///
/// let dictionary = Dictionary::from(vec![1, 2, 3]);
/// assert_eq!(dictionary.as_bytes(), &[1, 2, 3]);
/// assert_eq!(dictionary.id(), None); // not in zstd's dictionary format
/// assert_eq!(format!("{dictionary:?}"), "Dictionary { len: 3, id: None }");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Dictionary(Arc<[u8]>);

impl Dictionary {
    /// The dictionary's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The id in the dictionary's header; `None` when it is not in zstd's dictionary format or
    /// its id is 0.
    pub fn id(&self) -> Option<u32> {
        zstd::zstd_safe::get_dict_id_from_dict(&self.0).map(NonZeroU32::get)
    }
}

impl From<Vec<u8>> for Dictionary {
    fn from(bytes: Vec<u8>) -> Self {
        Dictionary(bytes.into())
    }
}

impl From<&[u8]> for Dictionary {
    fn from(bytes: &[u8]) -> Self {
        Dictionary(bytes.into())
    }
}

impl fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dictionary")
            .field("len", &self.0.len())
            .field("id", &self.id())
            .finish()
    }
}

/// Why a dictionary could not be prepared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DictionaryError {
    /// No bytes at all.
    Empty,
    /// It does not start with the zstd dictionary magic number: raw bytes, or another format.
    NotZstdFormat,
    /// Its header has dictionary id 0, so frames could not record which dictionary they need.
    NoId,
    /// zstd refused to load it (truncated or corrupt tables).
    Rejected,
}

impl fmt::Display for DictionaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DictionaryError::Empty => "the compression dictionary is empty",
            DictionaryError::NotZstdFormat => {
                "the compression dictionary is not a zstd dictionary (it does not start with the \
                 magic number 0xEC30A437); train one from sample sessions with the \
                 train_dictionary example or `zstd --train`"
            }
            DictionaryError::NoId => {
                "the compression dictionary has id 0; values compressed with it could not name \
                 it, so train one that has an id (train_dictionary and `zstd --train` give one)"
            }
            DictionaryError::Rejected => {
                "zstd rejected the compression dictionary: it is truncated or corrupt"
            }
        })
    }
}

impl std::error::Error for DictionaryError {}

/// A dictionary digested by zstd, ready to compress and decompress without further setup.
///
/// Built once per codec. Prepared for level 0 it only decompresses: a layer whose compression
/// was turned off still opens the values it sealed with the dictionary before.
pub struct PreparedDictionary {
    id: NonZeroU32,
    level: i32,
    cdict: Option<CDict<'static>>,
    ddict: DDict<'static>,
}

impl PreparedDictionary {
    /// Validates `dictionary` and digests it for compression at `level` (0: decompression
    /// only).
    pub fn new(dictionary: &Dictionary, level: i32) -> Result<Self, DictionaryError> {
        let bytes = dictionary.as_bytes();
        if bytes.is_empty() {
            return Err(DictionaryError::Empty);
        }
        let magic = bytes
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
        if magic != Some(DICTIONARY_MAGIC) {
            return Err(DictionaryError::NotZstdFormat);
        }
        let id = zstd::zstd_safe::get_dict_id_from_dict(bytes).ok_or(DictionaryError::NoId)?;
        let ddict = DDict::try_create(bytes).ok_or(DictionaryError::Rejected)?;
        if ddict.get_dict_id() != Some(id) {
            return Err(DictionaryError::Rejected);
        }
        let cdict = if level == 0 {
            None
        } else {
            let cdict = CDict::try_create(bytes, level).ok_or(DictionaryError::Rejected)?;
            if cdict.get_dict_id() != Some(id) {
                return Err(DictionaryError::Rejected);
            }
            Some(cdict)
        };
        Ok(PreparedDictionary {
            id,
            level,
            cdict,
            ddict,
        })
    }

    /// The dictionary id that frames compressed with it record.
    pub fn id(&self) -> u32 {
        self.id.get()
    }

    /// The compression level it was prepared for (0: decompression only).
    pub fn level(&self) -> i32 {
        self.level
    }
}

impl fmt::Debug for PreparedDictionary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedDictionary")
            .field("id", &self.id)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

/// Compresses `body` with a prepared dictionary into one zstd frame that records the content
/// size and the dictionary id; `None` when the frame would not be smaller than `body`.
///
/// Fails when the dictionary was prepared for decompression only (level 0). The compression
/// context is kept per thread and reused; the dictionary is referenced, not loaded again.
pub fn compress_with_dictionary(
    body: &[u8],
    dictionary: &PreparedDictionary,
) -> io::Result<Option<Vec<u8>>> {
    let cdict = dictionary.cdict.as_ref().ok_or_else(|| {
        io::Error::other("the compression dictionary was prepared for decompression only")
    })?;
    let mut frame = Vec::with_capacity(zstd::zstd_safe::compress_bound(body.len()));
    DICT_CCTX.with(|cell| -> io::Result<()> {
        let mut slot = cell.try_borrow_mut().map_err(io::Error::other)?;
        if slot.is_none() {
            *slot = Some(CCtx::try_create().ok_or_else(|| {
                io::Error::other("zstd could not allocate a compression context")
            })?);
        }
        let cctx = slot.as_mut().expect("just set");
        cctx.compress_using_cdict(&mut frame, body, cdict)
            .map_err(|code| io::Error::other(zstd::zstd_safe::get_error_name(code)))?;
        Ok(())
    })?;
    Ok((frame.len() < body.len()).then_some(frame))
}

/// Decompresses exactly one zstd frame compressed with `dictionary` into at most `max` bytes.
///
/// The bounds are those of [`decompress`]. A frame that records no dictionary id, or another
/// one, fails with [`OpenError::Dictionary`] before any decompression.
pub fn decompress_with_dictionary(
    frame: &[u8],
    max: usize,
    dictionary: &PreparedDictionary,
) -> Result<Vec<u8>, OpenError> {
    let (declared, capacity) = bounds(frame, max)?;
    if zstd::zstd_safe::get_dict_id_from_frame(frame) != Some(dictionary.id) {
        return Err(OpenError::Dictionary);
    }
    let mut out = Vec::with_capacity(capacity);
    DICT_DCTX.with(|cell| -> Result<(), OpenError> {
        let mut slot = cell.try_borrow_mut().map_err(|_| OpenError::Decompress)?;
        if slot.is_none() {
            *slot = Some(DCtx::try_create().ok_or(OpenError::Decompress)?);
        }
        let dctx = slot.as_mut().expect("just set");
        dctx.decompress_using_ddict(&mut out, frame, &dictionary.ddict)
            .map_err(code_to_open_error)?;
        Ok(())
    })?;
    if declared.is_some_and(|size| size != out.len() as u64) {
        return Err(OpenError::Decompress);
    }
    Ok(out)
}
