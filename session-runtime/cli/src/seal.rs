//! `sessions seal`: the reverse of `open`, for tests and support work: a JSON object of fields
//! in, a cookie value the app's layer accepts out.

use std::io::Read;

use clap::Args;
use serde_json::{Map, Value};
use session_runtime::codec::Timestamps;
use session_settings::defaults;

use crate::codec_args::CodecArgs;
use crate::exit::Failure;
use crate::times::unix_now;

/// Arguments of `sessions seal`.
#[derive(Args, Debug)]
pub struct SealArgs {
    #[command(flatten)]
    pub codec: CodecArgs,
    /// Seconds from now until the value expires (sealed, so the browser cannot extend it);
    /// 0: never. Legacy values have no room for it.
    #[arg(long, value_name = "SECS", default_value_t = defaults::EXPIRE)]
    pub expire: u64,
    /// zstd level 1 to 22, or 0 for none; applied only when it makes the value smaller.
    #[arg(long, value_name = "N", default_value_t = defaults::COMPRESSION_LEVEL, value_parser = parse_level)]
    pub compression_level: i32,
    /// The fields as one JSON object, by stored name; without it, read from stdin.
    #[arg(long, value_name = "JSON")]
    pub fields: Option<String>,
}

fn parse_level(text: &str) -> Result<i32, String> {
    text.parse()
        .ok()
        .filter(|level| defaults::COMPRESSION_LEVELS.contains(level))
        .ok_or_else(|| format!("`{text}` is not a zstd level from 0 (off) to 22"))
}

/// Runs `sessions seal`: the cookie value to print.
pub fn run(args: &SealArgs) -> Result<String, Failure> {
    let text = match &args.fields {
        Some(text) => text.clone(),
        None => read_stdin()?,
    };
    let body = body(&text)?;
    let codec = args.codec.codec(args.compression_level, false)?;
    let now = unix_now();
    let expires_at = match args.expire {
        0 => 0,
        secs => now.saturating_add(secs),
    };
    let times = Timestamps {
        issued_at: now,
        expires_at,
    };
    codec
        .seal(&body, times)
        .map_err(|e| Failure::usage(e.to_string()))
}

fn read_stdin() -> Result<String, Failure> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::usage(format!("could not read the fields from stdin: {e}")))?;
    Ok(text)
}

/// The compact JSON body of `text`, which must be an object without reserved names.
fn body(text: &str) -> Result<Vec<u8>, Failure> {
    let fields: Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => return Err(Failure::usage("the fields must be one JSON object")),
        Err(e) => return Err(Failure::usage(format!("the fields are not JSON: {e}"))),
    };
    if let Some(name) = fields.keys().find(|name| name.starts_with('$')) {
        return Err(Failure::usage(format!(
            "`{name}`: names starting with `$` are reserved for the layer's own entries"
        )));
    }
    serde_json::to_vec(&fields).map_err(|e| Failure::failed(format!("could not encode: {e}")))
}
