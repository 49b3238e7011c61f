//! `sessions open`: a sealed cookie value in, the session as JSON out, or why it did not open.
//!
//! The JSON has one shape in every mode:
//!
//! ```text
//! {"mode":"modern",
//!  "issued_at":"2026-12-03T14:00:00Z","issued_at_unix":1796306400,
//!  "expires_at":"2026-12-03T15:00:00Z","expires_at_unix":1796310000,
//!  "refreshed_at":"2026-12-03T14:00:00Z","refreshed_at_unix":1796306400,
//!  "idle_timeout":null,"stale":false,"fields":{"counter":2}}
//! ```
//!
//! `expires_at` is `null` for a value that never expires, both times are `null` for a `legacy`
//! value (that format has no room for them), `idle_timeout` is the per-session idle timeout
//! set with `set_expiry` (sealed as the reserved `$ttl` key), `refreshed_at` is when the idle
//! timeout last started counting (the reserved `$refreshed` key; `null` in values sealed before
//! it existed), and `stale` says that the value
//! opened with a retired secret or in the legacy format, so the layer re-seals it.

use std::io::Read;

use clap::Args;
use serde::Serialize;
use serde_json::{Map, Value};
use session_runtime::EncryptionMode;
use session_runtime::codec::{Codec, IDLE_TIMEOUT_KEY, OpenError, Opened, REFRESHED_KEY};

use crate::codec_args::CodecArgs;
use crate::exit::{Exit, Failure};
use crate::times::{rfc3339, unix_now};

/// Arguments of `sessions open`.
#[derive(Args, Debug)]
pub struct OpenArgs {
    #[command(flatten)]
    pub codec: CodecArgs,
    /// Also open values in the legacy format (the type's `accept_legacy`).
    #[arg(long)]
    pub accept_legacy: bool,
    /// Print an expired session too (exit code 0) instead of failing with code 5.
    #[arg(long)]
    pub ignore_expiry: bool,
    /// Indent the JSON.
    #[arg(long)]
    pub pretty: bool,
    /// The cookie value, bare or as NAME=VALUE. Several values are the chunks of a chunked
    /// cookie (NAME.0, NAME.1, ...), joined in order (by index when given as NAME.N=VALUE).
    /// Without a value, values are read from stdin, separated by whitespace.
    #[arg(value_name = "VALUE")]
    pub values: Vec<String>,
}

/// What `open` prints.
#[derive(Serialize, Debug)]
pub struct Report {
    /// The encryption mode the value was opened in.
    pub mode: &'static str,
    /// When the session was created, RFC 3339 UTC; `None` for legacy values.
    pub issued_at: Option<String>,
    /// The same, unix seconds.
    pub issued_at_unix: Option<u64>,
    /// When the value stops being valid, RFC 3339 UTC; `None` when it never does.
    pub expires_at: Option<String>,
    /// The same, unix seconds.
    pub expires_at_unix: Option<u64>,
    /// When the idle timeout last started counting, RFC 3339 UTC; `None` when not recorded.
    pub refreshed_at: Option<String>,
    /// The same, unix seconds.
    pub refreshed_at_unix: Option<u64>,
    /// The per-session idle timeout in seconds, when one was set.
    pub idle_timeout: Option<u64>,
    /// Opened with a retired secret or from the legacy format: the layer re-seals it.
    pub stale: bool,
    /// The session's fields by stored name.
    pub fields: Map<String, Value>,
}

/// Runs `sessions open`: the JSON to print.
pub fn run(args: &OpenArgs) -> Result<String, Failure> {
    let name = &args.codec.cookie_name;
    let value = if args.values.is_empty() {
        join_chunks(name, &read_stdin()?)?
    } else {
        join_chunks(name, &args.values)?
    };
    let codec = args.codec.codec(0, args.accept_legacy)?;
    let report = open(&codec, &value, unix_now(), args.ignore_expiry)?;
    let json = if args.pretty {
        serde_json::to_string_pretty(&report)
    } else {
        serde_json::to_string(&report)
    };
    json.map_err(|e| Failure::failed(format!("could not write the JSON: {e}")))
}

fn read_stdin() -> Result<Vec<String>, Failure> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::usage(format!("could not read the value from stdin: {e}")))?;
    let values: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    if values.is_empty() {
        return Err(Failure::usage(
            "no value: give the cookie value as an argument or on stdin",
        ));
    }
    Ok(values)
}

/// One value from the arguments: each bare, or `NAME=VALUE`, or `NAME.N=VALUE` (a chunk);
/// chunks given with their index are put in index order.
pub fn join_chunks(name: &str, parts: &[String]) -> Result<String, Failure> {
    let mut chunks: Vec<(Option<usize>, &str)> = Vec::with_capacity(parts.len());
    for part in parts {
        chunks.push(strip_name(name, part)?);
    }
    // A stable sort: unindexed parts keep their order, ahead of indexed ones.
    chunks.sort_by_key(|(index, _)| *index);
    Ok(chunks.into_iter().map(|(_, value)| value).collect())
}

/// The value of one argument, and its chunk index if it was given as `NAME.N=VALUE`.
fn strip_name<'a>(name: &str, part: &'a str) -> Result<(Option<usize>, &'a str), Failure> {
    let Some(rest) = part.strip_prefix(name) else {
        return Ok((None, part));
    };
    if let Some(value) = rest.strip_prefix('=') {
        return Ok((None, value));
    }
    // Values are base64, which has no `.`: a `NAME.` prefix can only be a chunk's name.
    let Some((index, value)) = rest.strip_prefix('.').and_then(|r| r.split_once('=')) else {
        return Ok((None, part));
    };
    let index = index.parse().map_err(|_| {
        Failure::usage(format!(
            "`{name}.{index}=`: a chunk's name is {name}.0, {name}.1, ..."
        ))
    })?;
    Ok((Some(index), value))
}

/// Opens `value` and checks its sealed expiry against `now`, as the layer does.
pub fn open(codec: &Codec, value: &str, now: u64, ignore_expiry: bool) -> Result<Report, Failure> {
    let opened = codec.open(value).map_err(|e| explain(e, codec))?;
    let report = Report::new(codec.mode(), opened)?;
    match report.expires_at_unix {
        Some(expires_at) if expires_at <= now && !ignore_expiry => Err(Failure::new(
            Exit::Expired,
            format!(
                "expired at {} ({} seconds ago)",
                rfc3339(expires_at),
                now - expires_at
            ),
        )),
        _ => Ok(report),
    }
}

/// Why a value did not open, in the words a support engineer needs, with its exit code.
///
/// The cookie name is associated data of the seal, not something the value carries: a value
/// sealed for another name fails exactly like a tampered one, so one message names both.
fn explain(error: OpenError, codec: &Codec) -> Failure {
    let mode = codec.mode();
    match error {
        OpenError::UnknownKey => Failure::new(
            Exit::UnknownKey,
            "no key opens it (wrong or retired secret): its key id matches neither the current \
             secret nor a retired one",
        ),
        OpenError::Authentication if mode == EncryptionMode::Legacy => Failure::new(
            Exit::Authentication,
            "no key opens it, or it was tampered with, or sealed for another cookie name \
             (legacy values carry no key id, so these look alike)",
        ),
        OpenError::Authentication => Failure::new(
            Exit::Authentication,
            format!(
                "tampered or sealed for another cookie name (not `{}`): the cookie name is \
                 sealed into the value, so a wrong name and a changed value look alike",
                codec.options().cookie_name
            ),
        ),
        OpenError::UnknownVersion => Failure::failed(format!(
            "not a {mode} value: its format version byte is another mode's (try --mode)"
        )),
        OpenError::Dictionary => Failure::failed(
            "it was compressed with a dictionary: pass the type's dictionary with --dictionary",
        ),
        other => Failure::failed(other.to_string()),
    }
}

impl Report {
    fn new(mode: EncryptionMode, opened: Opened) -> Result<Report, Failure> {
        let malformed = |why: &str| Failure::failed(format!("session value is malformed: {why}"));
        let mut fields = match serde_json::from_slice(&opened.body) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) | Err(_) => return Err(malformed("its body is not a JSON object")),
        };
        let mut seconds = |key: &str, what: &str| match fields.remove(key) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| malformed(&format!("its {what} is not a number of seconds"))),
        };
        let idle_timeout = seconds(IDLE_TIMEOUT_KEY, "idle timeout")?;
        let refreshed_at = seconds(REFRESHED_KEY, "refresh time")?;
        let times = opened.timestamps;
        let expires_at = times.map(|t| t.expires_at).filter(|&t| t != 0);
        Ok(Report {
            mode: mode.as_str(),
            issued_at: times.map(|t| rfc3339(t.issued_at)),
            issued_at_unix: times.map(|t| t.issued_at),
            expires_at: expires_at.map(rfc3339),
            expires_at_unix: expires_at,
            refreshed_at: refreshed_at.map(rfc3339),
            refreshed_at_unix: refreshed_at,
            idle_timeout,
            stale: opened.stale,
            fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::join_chunks;

    fn join(parts: &[&str]) -> String {
        let parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        join_chunks("myapp", &parts).unwrap()
    }

    #[test]
    fn joins_bare_named_and_indexed_chunks() {
        assert_eq!(join(&["abc"]), "abc");
        assert_eq!(join(&["myapp=abc"]), "abc");
        assert_eq!(join(&["ab", "cd"]), "abcd");
        assert_eq!(join(&["myapp.1=cd", "myapp.0=ab"]), "abcd");
        assert_eq!(join(&["myappish"]), "myappish");
    }

    #[test]
    fn a_chunk_index_must_be_a_number() {
        let parts = vec!["myapp.x=ab".to_owned()];
        assert_eq!(join_chunks("myapp", &parts).unwrap_err().exit.code(), 2);
    }
}
