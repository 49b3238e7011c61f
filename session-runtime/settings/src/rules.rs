//! Every rule a setting's value must keep: first the rules of one value, then [`check`],
//! which applies them and the rules that relate several values.
//!
//! Each rule says why it exists; the derive reports a broken rule as a compile error on the
//! attribute, the builder as a `ConfigError`. The messages speak of attributes
//! (`secure = true`) because that is where most values come from; the runtime names the setting
//! or environment variable beside them.

use crate::defaults;
use crate::names::{EncryptionMode, Oversize, SameSite, StoreKind};
use crate::problem::{Problem, Rule};
use crate::setting::Setting;
use crate::values::{StoreValue, Values};

/// The separators RFC 6265 (through RFC 2616's `token`) forbids in a cookie name.
const SEPARATORS: &str = "()<>@,;:\\\"/[]?={} \t";

/// A cookie name must be an RFC 6265 token (visible ASCII, no separators): anything else is
/// split, quoted or dropped differently by each browser. It is also bounded, because it is
/// sent with every request and bound into every sealed value.
pub fn cookie_name(name: &str) -> Result<(), Problem> {
    let problem = |rule, message: String| Err(Problem::new(Setting::CookieName, rule, message));
    if name.is_empty() {
        return problem(
            Rule::CookieNameToken,
            "the cookie name is empty; give it at least one character".to_owned(),
        );
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !c.is_ascii_graphic() || SEPARATORS.contains(*c))
    {
        return problem(
            Rule::CookieNameToken,
            format!(
                "invalid cookie name `{}`: {} is not allowed; a cookie name takes visible ASCII characters except separators `()<>@,;:\\\"/[]?={{}}`",
                name.escape_debug(),
                describe_char(bad)
            ),
        );
    }
    if name.len() > defaults::MAX_COOKIE_NAME_LEN {
        return problem(
            Rule::CookieNameLength,
            format!(
                "the cookie name is {} bytes long; it must be at most {}",
                name.len(),
                defaults::MAX_COOKIE_NAME_LEN
            ),
        );
    }
    Ok(())
}

/// The cookie's `Path`: absolute (browsers ignore a relative one), and visible ASCII without
/// `;`, which would end the attribute and start another.
pub fn cookie_path(path: &str) -> Result<(), Problem> {
    let problem = |message| Err(Problem::new(Setting::Path, Rule::PathForm, message));
    if !path.starts_with('/') {
        return problem(format!(
            "invalid cookie path `{}`: it must start with `/`",
            path.escape_debug()
        ));
    }
    match path.chars().find(|c| *c == ';' || !c.is_ascii_graphic()) {
        None => Ok(()),
        Some(bad) => problem(format!(
            "invalid cookie path `{}`: {} is not allowed",
            path.escape_debug(),
            describe_char(bad)
        )),
    }
}

/// The cookie's `Domain`: a host name in ASCII (a browser compares it with the punycode
/// form), without `;`, which would end the attribute.
pub fn domain(domain: &str) -> Result<(), Problem> {
    let problem = |message| Err(Problem::new(Setting::Domain, Rule::DomainForm, message));
    if domain.is_empty() {
        return problem(
            "the cookie domain is empty; leave `domain` out for a host-only cookie".to_owned(),
        );
    }
    match domain.chars().find(|c| *c == ';' || !c.is_ascii_graphic()) {
        None => Ok(()),
        Some(bad) => problem(format!(
            "invalid cookie domain `{}`: {} is not allowed; write an internationalized domain in its ASCII (punycode) form",
            domain.escape_debug(),
            describe_char(bad)
        )),
    }
}

/// A key prefix for server-side stores: visible ASCII, so keys stay printable in every store
/// and in logs, and short, because it is part of every key.
pub fn prefix(prefix: &str) -> Result<(), Problem> {
    let problem = |message| Err(Problem::new(Setting::Prefix, Rule::PrefixForm, message));
    if let Some(bad) = prefix.chars().find(|c| !c.is_ascii_graphic()) {
        return problem(format!(
            "invalid store key prefix `{}`: {} is not allowed; use visible ASCII characters",
            prefix.escape_debug(),
            describe_char(bad)
        ));
    }
    if prefix.len() > defaults::MAX_PREFIX_LEN {
        return problem(format!(
            "the store key prefix is {} bytes long; it must be at most {}",
            prefix.len(),
            defaults::MAX_PREFIX_LEN
        ));
    }
    Ok(())
}

/// A file name template: exactly one `%s` (where the hashed id goes), and nothing that could
/// leave the sessions directory, be read as another placeholder, or hide the file (a leading
/// dot).
pub fn filename_template(template: &str) -> Result<(), Problem> {
    let problem = |message| {
        Err(Problem::new(
            Setting::FilenameTemplate,
            Rule::FilenameTemplateForm,
            message,
        ))
    };
    let shown = template.escape_debug();
    if let Some(bad) = template.chars().find(|c| matches!(c, '/' | '\\' | '\0')) {
        return problem(format!(
            "invalid filename template `{shown}`: {} is not allowed; the template names a file inside the sessions directory",
            describe_char(bad)
        ));
    }
    let placeholders = template.matches("%s").count();
    if placeholders != 1 {
        return problem(format!(
            "invalid filename template `{shown}`: it must contain `%s` exactly once, where the session id goes (found {placeholders})"
        ));
    }
    // Every `%` must belong to the single `%s`.
    if template.matches('%').count() != 1 {
        return problem(format!(
            "invalid filename template `{shown}`: `%` may only appear as the one `%s`"
        ));
    }
    if template.starts_with('.') {
        return problem(format!(
            "invalid filename template `{shown}`: it cannot start with `.`; hidden session files are easy to miss and to sweep by mistake"
        ));
    }
    Ok(())
}

/// A number of seconds: zero would expire every session at once.
pub fn seconds(setting: Setting, value: u64) -> Result<(), Problem> {
    wide_seconds(setting, i128::from(value))
}

/// [`seconds`] for a value as written, which may be negative or past `u64`.
fn wide_seconds(setting: Setting, value: i128) -> Result<(), Problem> {
    if (1..=i128::from(u64::MAX)).contains(&value) {
        return Ok(());
    }
    Err(Problem::new(
        setting,
        Rule::PositiveSeconds,
        format!("`{setting}` must be at least 1 (it is a number of seconds); found {value}"),
    ))
}

/// The rule of an integer setting for a value as written, of any sign and size, before it is
/// narrowed to the setting's type (the derive reads integer literals this way). `None` for a
/// setting that does not take an integer.
///
/// ```
/// use session_settings::{Rule, Setting, rules};
///
/// assert_eq!(rules::integer(Setting::CompressionLevel, 3), Some(Ok(())));
/// let problem = rules::integer(Setting::Expire, -5).unwrap().unwrap_err();
/// assert_eq!(problem.rule, Rule::PositiveSeconds);
/// assert_eq!(rules::integer(Setting::Path, 1), None);
/// ```
pub fn integer(setting: Setting, value: i128) -> Option<Result<(), Problem>> {
    match setting {
        Setting::Expire | Setting::MaxLifetime => Some(wide_seconds(setting, value)),
        Setting::CompressionLevel => Some(level_range(value)),
        Setting::MaxCookieSize => Some(cookie_size_range(value)),
        Setting::MaxChunks => Some(chunks_range(value)),
        _ => None,
    }
}

/// The zstd level: zstd's own range.
pub fn compression_level(level: i32) -> Result<(), Problem> {
    level_range(i128::from(level))
}

fn level_range(level: i128) -> Result<(), Problem> {
    in_range(
        Setting::CompressionLevel,
        level,
        i128::from(*defaults::COMPRESSION_LEVELS.start()),
        i128::from(*defaults::COMPRESSION_LEVELS.end()),
        "between 0 (no compression) and 22, the range of zstd levels",
    )
}

/// The cookie size limit: browsers drop a cookie past 4096 bytes, and below 64 no sealed
/// value fits.
pub fn max_cookie_size(size: usize) -> Result<(), Problem> {
    cookie_size_range(size as i128)
}

fn cookie_size_range(size: i128) -> Result<(), Problem> {
    in_range(
        Setting::MaxCookieSize,
        size,
        *defaults::MAX_COOKIE_SIZES.start() as i128,
        *defaults::MAX_COOKIE_SIZES.end() as i128,
        "between 64 and 4096 (bytes; browsers refuse larger cookies)",
    )
}

/// How many cookies a chunked session may use: at least two (else it is not chunking), and
/// bounded, since browsers cap cookies per site.
pub fn max_chunks(chunks: usize) -> Result<(), Problem> {
    chunks_range(chunks as i128)
}

fn chunks_range(chunks: i128) -> Result<(), Problem> {
    in_range(
        Setting::MaxChunks,
        chunks,
        *defaults::CHUNK_COUNTS.start() as i128,
        *defaults::CHUNK_COUNTS.end() as i128,
        "between 2 and 64 (cookies per session)",
    )
}

/// The message for an integer outside its setting's range, as the derive and the builder
/// both give it.
pub fn in_range(
    setting: Setting,
    value: i128,
    min: i128,
    max: i128,
    expected: &str,
) -> Result<(), Problem> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(Problem::new(
        setting,
        Rule::OutOfRange,
        format!("`{setting}` must be {expected}; found {value}"),
    ))
}

/// A field's stored name (after `rename`): not empty, and not starting with `$`, which the
/// session's own data uses inside a cookie's object.
pub fn stored_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("`rename` cannot be empty".to_owned());
    }
    if name.starts_with('$') {
        return Err(format!(
            "invalid stored name `{}`: names starting with `$` are reserved for the session's own data",
            name.escape_debug()
        ));
    }
    match name.chars().find(|c| c.is_control()) {
        None => Ok(()),
        Some(bad) => Err(format!(
            "invalid stored name `{}`: {} is not allowed",
            name.escape_debug(),
            describe_char(bad)
        )),
    }
}

/// Applies every rule to `values`: first the rules of each known value, then the rules that
/// relate several. A rule whose inputs are not all known stays silent.
pub fn check(values: &Values<'_>) -> Vec<Problem> {
    let mut problems: Vec<Problem> = single_values(values)
        .into_iter()
        .filter_map(Result::err)
        .collect();
    same_site_needs_secure(values, &mut problems);
    cookie_name_prefixes(values, &mut problems);
    lifetimes(values, &mut problems);
    legacy_has_no_time(values, &mut problems);
    compression(values, &mut problems);
    dictionary(values, &mut problems);
    store_options(values, &mut problems);
    problems
}

/// The rules of one value, for every value that is known.
fn single_values(v: &Values<'_>) -> Vec<Result<(), Problem>> {
    let chunking = v.oversize == Some(Oversize::Chunk);
    [
        v.cookie_name.map(cookie_name),
        v.path.map(cookie_path),
        v.domain.map(domain),
        v.expire.map(|s| seconds(Setting::Expire, s)),
        v.max_lifetime.map(|s| seconds(Setting::MaxLifetime, s)),
        v.compression_level.map(compression_level),
        v.max_cookie_size.map(max_cookie_size),
        v.max_chunks.filter(|_| chunking).map(max_chunks),
        v.prefix.map(prefix),
        v.filename_template.map(filename_template),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Browsers drop `SameSite=None` cookies that are not `Secure`.
fn same_site_needs_secure(v: &Values<'_>, problems: &mut Vec<Problem>) {
    if v.same_site == Some(SameSite::None) && v.secure == Some(false) {
        problems.push(Problem::new(
            Setting::SameSite,
            Rule::SameSiteNoneNeedsSecure,
            "`same_site = \"none\"` requires `secure`: browsers reject SameSite=None cookies that are not Secure",
        ));
    }
}

/// Whether `name` starts with `prefix` in any letter case. Browsers and the cookie drafts have
/// changed their minds on whether these prefixes match case-insensitively; holding every case
/// variant to the prefix's requirements is safe under either reading.
pub fn has_name_prefix(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The `__Host-` and `__Secure-` cookie name prefixes carry rules browsers enforce by
/// silently dropping the cookie; catching them turns a baffling bug into an error.
fn cookie_name_prefixes(v: &Values<'_>, problems: &mut Vec<Problem>) {
    let Some(name) = v.cookie_name else {
        return;
    };
    let host = has_name_prefix(name, "__Host-");
    if !host && !has_name_prefix(name, "__Secure-") {
        return;
    }
    let prefix = if host { "__Host-" } else { "__Secure-" };
    if v.secure == Some(false) {
        problems.push(Problem::new(
            Setting::CookieName,
            Rule::PrefixedNameNeedsSecure,
            format!(
                "a cookie name starting with `{prefix}` requires `secure`: browsers reject such cookies without the Secure attribute"
            ),
        ));
    }
    if !host {
        return;
    }
    if v.domain.is_some() {
        problems.push(Problem::new(
            Setting::Domain,
            Rule::HostNameHasNoDomain,
            "a cookie name starting with `__Host-` cannot have a `domain`: browsers only accept such cookies host-only",
        ));
    }
    if v.path.is_some_and(|p| p != "/") {
        problems.push(Problem::new(
            Setting::Path,
            Rule::HostNameHasRootPath,
            "a cookie name starting with `__Host-` requires `path = \"/\"`: browsers reject such cookies with another path",
        ));
    }
}

/// The absolute lifetime caps the idle timeout, so it cannot be the shorter one.
fn lifetimes(v: &Values<'_>, problems: &mut Vec<Problem>) {
    let (Some(max_lifetime), Some(expire)) = (v.max_lifetime, v.expire) else {
        return;
    };
    if max_lifetime < expire {
        let whence = if v.expire_is_default {
            ", the default"
        } else {
            ""
        };
        problems.push(Problem::new(
            Setting::MaxLifetime,
            Rule::LifetimeShorterThanIdle,
            format!(
                "`max_lifetime` ({max_lifetime} s) is shorter than `expire` ({expire} s{whence}); it must be at least as long"
            ),
        ));
    }
}

/// A `legacy` value is the `cookie` crate's private cookie: it carries no issue or expiry time,
/// so every open counts as a session created now and nothing on the server can tell an old
/// value from a new one. An `expire` or `max_lifetime` written beside it would promise a limit
/// that only the browser's Max-Age keeps, and a replayed cookie ignores. Refused where the
/// value is the session: the cookie store, which is also the store when the attribute leaves
/// it to run time (the default store; write a server-side store to say otherwise). Only
/// values somebody wrote are refused: the default idle timeout still sets the cookie's
/// Max-Age, and the default absolute lifetime does not apply to a `legacy` cookie store.
fn legacy_has_no_time(v: &Values<'_>, problems: &mut Vec<Problem>) {
    let cookie_store = v.store.is_none_or(|s| !s.is_server_side());
    if v.encryption_mode != Some(EncryptionMode::Legacy) || !cookie_store {
        return;
    }
    let explicit = [
        (Setting::Expire, v.expire.is_some() && !v.expire_is_default),
        (
            Setting::MaxLifetime,
            v.max_lifetime.is_some() && !v.max_lifetime_is_default,
        ),
    ];
    for (setting, written) in explicit {
        if written {
            problems.push(Problem::new(
                setting,
                Rule::LegacyHasNoTime,
                format!(
                    "`{setting}` cannot be used with `encryption_mode = \"legacy\"` on the cookie store: legacy values carry no time, so only the browser's Max-Age limits them and a replayed cookie is accepted however old; use `encryption_mode = \"modern\"` (and migrate existing legacy cookies with `accept_legacy_until`)"
                ),
            ));
        }
    }
}

/// The legacy format is the `cookie` crate's private cookie: it has no header byte where a
/// compression flag could go.
fn compression(v: &Values<'_>, problems: &mut Vec<Problem>) {
    if v.encryption_mode == Some(EncryptionMode::Legacy)
        && v.compression_level.is_some_and(|l| l > 0)
    {
        problems.push(Problem::new(
            Setting::CompressionLevel,
            Rule::CompressionNeedsFlags,
            "`compression_level` cannot be used with `encryption_mode = \"legacy\"`: the legacy format has no room to mark compressed values; use level 0 or the modern mode",
        ));
    }
}

/// A dictionary is only used to compress cookie values: it needs a mode with a flags byte, the
/// cookie store, and a compression level. One problem per mistake: legacy first (the level
/// rule already speaks when a level is given), then a server-side store, then the level.
fn dictionary(v: &Values<'_>, problems: &mut Vec<Problem>) {
    if !v.compression_dictionary {
        return;
    }
    let level = v.compression_level.unwrap_or(0);
    let problem =
        |rule, message: String| Problem::new(Setting::CompressionDictionary, rule, message);
    if v.encryption_mode == Some(EncryptionMode::Legacy) {
        if level == 0 {
            problems.push(problem(
                Rule::DictionaryNeedsFlags,
                "`compression_dictionary` cannot be used with `encryption_mode = \"legacy\"`: the legacy format has no room to mark compressed values; use the modern mode".to_owned(),
            ));
        }
        return;
    }
    if let Some(store) = v.store.filter(|s| s.is_server_side()) {
        problems.push(problem(
            Rule::DictionaryNeedsCookieStore,
            format!(
                "`compression_dictionary` only applies to `store = \"cookie\"`: with {} the values are not compressed",
                store.describe()
            ),
        ));
        return;
    }
    if v.compression_level == Some(0) {
        problems.push(problem(
            Rule::DictionaryNeedsCompression,
            "`compression_dictionary` needs compression: set `compression_level` to a zstd level from 1 to 22, e.g. `compression_level = 3`".to_owned(),
        ));
    }
}

/// Options that only one kind of store reads, written beside a store that does not read them:
/// almost always a leftover from a change of store, and silently ignored otherwise.
fn store_options(v: &Values<'_>, problems: &mut Vec<Problem>) {
    let Some(store) = v.store.filter(|_| v.written.contains(Setting::Store)) else {
        return;
    };
    let store_name = store.describe();
    let mut refuse = |setting: Setting, message: String| {
        if v.written.contains(setting) {
            problems.push(Problem::new(setting, Rule::NotForThisStore, message));
        }
    };
    if store != StoreValue::Builtin(StoreKind::Files) {
        refuse(
            Setting::FilenameTemplate,
            format!("`filename_template` only applies to `store = \"files\"`, not to {store_name}"),
        );
    }
    if !store.is_server_side() {
        refuse(
            Setting::Prefix,
            "`prefix` only applies to server-side stores: `store = \"cookie\"` keeps no keys"
                .to_owned(),
        );
    } else {
        for setting in [Setting::MaxCookieSize, Setting::Oversize] {
            refuse(
                setting,
                format!(
                    "`{setting}` only applies to `store = \"cookie\"`: with {store_name} the cookie holds only the session id"
                ),
            );
        }
    }
}

/// A character as a message shows it: quoted, or named when invisible.
fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        '\0' => "a NUL character".to_owned(),
        c if c.is_control() || c.is_whitespace() => {
            format!("the control character U+{:04X}", u32::from(c))
        }
        c if !c.is_ascii() => format!("the non-ASCII character `{c}`"),
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests;
