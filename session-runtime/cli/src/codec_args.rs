//! The options `open` and `seal` share: which codec, and which secrets.

use std::path::PathBuf;

use clap::Args;
use session_runtime::EncryptionMode;
use session_runtime::codec::compress::Dictionary;
use session_runtime::codec::{Codec, CodecOptions};

use crate::exit::Failure;
use crate::secrets;

/// How to build the codec of one session type, as the app's layer does.
#[derive(Args, Debug, Clone)]
pub struct CodecArgs {
    /// The session type's cookie name (its `cookie_name`); values are bound to it.
    #[arg(long, value_name = "NAME")]
    pub cookie_name: String,
    /// How values are protected (the type's `encryption_mode`): modern, legacy or none.
    #[arg(long, value_name = "MODE", default_value = "modern", value_parser = parse_mode)]
    pub mode: EncryptionMode,
    /// The zstd dictionary file of the type's `compression_dictionary`, if it has one.
    #[arg(long, value_name = "FILE")]
    pub dictionary: Option<PathBuf>,
    /// Read the secrets from PREFIX_SECRET and PREFIX_SECRET_PREVIOUS.
    #[arg(long, value_name = "PREFIX", default_value = "SESSION")]
    pub env_prefix: String,
}

fn parse_mode(text: &str) -> Result<EncryptionMode, String> {
    text.parse().map_err(|e| format!("{e}"))
}

impl CodecArgs {
    /// The codec, with the secrets from the environment.
    pub fn codec(&self, compression_level: i32, accept_legacy: bool) -> Result<Codec, Failure> {
        let keys = secrets::key_ring_from_env(&self.env_prefix)?;
        let mut options = CodecOptions::new(self.mode, self.cookie_name.clone());
        options.compression_level = compression_level;
        options.accept_legacy = accept_legacy;
        if let Some(path) = &self.dictionary {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
            options.compression_dictionary = Some(Dictionary::from(bytes));
        }
        Codec::new(&keys, options).map_err(|e| Failure::usage(e.to_string()))
    }
}
