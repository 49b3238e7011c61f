//! The derive and the runtime agree on every rule of the settings specification.
//!
//! Each case is a `#[session(...)]` attribute. The compile side is the derive's real parse and
//! check of a struct carrying it; the run-time side is `session-runtime`'s public builder given
//! the same values through its methods (the file name template, which has no builder method,
//! through the `Attributes` a derive would emit), then `build()`. The test fails if one side
//! accepts what the other refuses, or if both refuse but name different settings.

use std::time::Duration;

use session_runtime::{
    Attributes, ConfigError, EncryptionMode, FieldEncoder, FieldError, Oversize, SameSite,
    SessionLayerBuilder, SessionSchema, StoreChoice, StoredFields,
};
use session_settings::{Rule, Setting};
use syn::{DeriveInput, Lit};

use crate::ctxt::Ctxt;
use crate::input::Input;

/// What a case expects: accepted, or refused on a setting for a rule.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Accept,
    Refuse(Setting, Rule),
}

use Expect::{Accept, Refuse};

/// The cases: at least one per rule of struct attributes, the forms that once behaved
/// differently at compile time and at run time, and accepted neighbours of each.
const CASES: &[(&str, Expect)] = &[
    ("", Accept),
    (r#"cookie_name = "myapp""#, Accept),
    (r#"cookie_name = "__Host-id", secure = true"#, Accept),
    (
        r#"cookie_name = "__Secure-id", secure = true, domain = "example.com""#,
        Accept,
    ),
    (r#"same_site = "none", secure = true"#, Accept),
    (r#"store = "memory", prefix = "app:""#, Accept),
    (
        r#"store = "files", filename_template = "sess_%s.json""#,
        Accept,
    ),
    (
        r#"compression_level = 3, compression_dictionary = "session.dict""#,
        Accept,
    ),
    (
        r#"encryption_mode = "none", compression_level = 22, max_cookie_size = 64"#,
        Accept,
    ),
    (r#"expire = 600, max_lifetime = 600, path = "/app""#, Accept),
    (
        r#"cookie_name = "my app""#,
        Refuse(Setting::CookieName, Rule::CookieNameToken),
    ),
    (
        r#"cookie_name = "café""#,
        Refuse(Setting::CookieName, Rule::CookieNameToken),
    ),
    (r#"path = "app""#, Refuse(Setting::Path, Rule::PathForm)),
    (r#"path = "/my app""#, Refuse(Setting::Path, Rule::PathForm)),
    (r#"path = "/a;b""#, Refuse(Setting::Path, Rule::PathForm)),
    (
        r#"domain = "exämple.com""#,
        Refuse(Setting::Domain, Rule::DomainForm),
    ),
    (
        r#"domain = "a b.com""#,
        Refuse(Setting::Domain, Rule::DomainForm),
    ),
    (
        r#"store = "memory", prefix = "préfixe:""#,
        Refuse(Setting::Prefix, Rule::PrefixForm),
    ),
    (
        r#"store = "memory", prefix = "my app:""#,
        Refuse(Setting::Prefix, Rule::PrefixForm),
    ),
    (
        r#"store = "files", filename_template = ".sess_%s""#,
        Refuse(Setting::FilenameTemplate, Rule::FilenameTemplateForm),
    ),
    (
        r#"store = "files", filename_template = "sess""#,
        Refuse(Setting::FilenameTemplate, Rule::FilenameTemplateForm),
    ),
    (
        r#"store = "files", filename_template = "a/%s""#,
        Refuse(Setting::FilenameTemplate, Rule::FilenameTemplateForm),
    ),
    ("expire = 0", Refuse(Setting::Expire, Rule::PositiveSeconds)),
    (
        "max_lifetime = 0",
        Refuse(Setting::MaxLifetime, Rule::PositiveSeconds),
    ),
    (
        "compression_level = 23",
        Refuse(Setting::CompressionLevel, Rule::OutOfRange),
    ),
    (
        "max_cookie_size = 63",
        Refuse(Setting::MaxCookieSize, Rule::OutOfRange),
    ),
    (
        "max_cookie_size = 4097",
        Refuse(Setting::MaxCookieSize, Rule::OutOfRange),
    ),
    (
        r#"same_site = "none""#,
        Refuse(Setting::SameSite, Rule::SameSiteNoneNeedsSecure),
    ),
    (
        r#"cookie_name = "__Host-x""#,
        Refuse(Setting::CookieName, Rule::PrefixedNameNeedsSecure),
    ),
    (
        r#"cookie_name = "__HOST-x""#,
        Refuse(Setting::CookieName, Rule::PrefixedNameNeedsSecure),
    ),
    (
        r#"cookie_name = "__secure-x""#,
        Refuse(Setting::CookieName, Rule::PrefixedNameNeedsSecure),
    ),
    (
        r#"cookie_name = "__Host-x", secure = true, domain = "example.com""#,
        Refuse(Setting::Domain, Rule::HostNameHasNoDomain),
    ),
    (
        r#"cookie_name = "__Host-x", secure = true, path = "/app""#,
        Refuse(Setting::Path, Rule::HostNameHasRootPath),
    ),
    (
        r#"encryption_mode = "legacy", compression_level = 3"#,
        Refuse(Setting::CompressionLevel, Rule::CompressionNeedsFlags),
    ),
    (
        r#"encryption_mode = "legacy", compression_dictionary = "session.dict""#,
        Refuse(Setting::CompressionDictionary, Rule::DictionaryNeedsFlags),
    ),
    (
        r#"store = "memory", compression_level = 3, compression_dictionary = "session.dict""#,
        Refuse(
            Setting::CompressionDictionary,
            Rule::DictionaryNeedsCookieStore,
        ),
    ),
    (
        r#"compression_dictionary = "session.dict""#,
        Refuse(
            Setting::CompressionDictionary,
            Rule::DictionaryNeedsCompression,
        ),
    ),
    (
        r#"store = "memory", max_cookie_size = 1000"#,
        Refuse(Setting::MaxCookieSize, Rule::NotForThisStore),
    ),
    (
        r#"store = "memory", oversize = "error""#,
        Refuse(Setting::Oversize, Rule::NotForThisStore),
    ),
    (
        r#"store = "cookie", prefix = "app:""#,
        Refuse(Setting::Prefix, Rule::NotForThisStore),
    ),
    (
        r#"store = "memory", filename_template = "s_%s""#,
        Refuse(Setting::FilenameTemplate, Rule::NotForThisStore),
    ),
    (
        "max_lifetime = 60",
        Refuse(Setting::MaxLifetime, Rule::LifetimeShorterThanIdle),
    ),
    (
        "expire = 600, max_lifetime = 599",
        Refuse(Setting::MaxLifetime, Rule::LifetimeShorterThanIdle),
    ),
    (r#"encryption_mode = "legacy""#, Accept),
    (
        r#"encryption_mode = "legacy", store = "memory", expire = 600, max_lifetime = 7200"#,
        Accept,
    ),
    (
        r#"encryption_mode = "legacy", expire = 600"#,
        Refuse(Setting::Expire, Rule::LegacyHasNoTime),
    ),
    (
        r#"encryption_mode = "legacy", store = "cookie", max_lifetime = 7200"#,
        Refuse(Setting::MaxLifetime, Rule::LegacyHasNoTime),
    ),
    (
        r#"encryption_mode = "legacy", expire = 600, max_lifetime = 7200"#,
        Refuse(Setting::Expire, Rule::LegacyHasNoTime),
    ),
];

/// [`CASES`], and the cookie names at and one past the length limit.
fn cases() -> Vec<(String, Expect)> {
    let long_name = |len: usize| format!("cookie_name = \"{}\"", "a".repeat(len));
    let mut cases: Vec<(String, Expect)> =
        CASES.iter().map(|(a, e)| ((*a).to_owned(), *e)).collect();
    cases.push((long_name(200), Accept));
    cases.push((
        long_name(201),
        Refuse(Setting::CookieName, Rule::CookieNameLength),
    ));
    cases
}

/// Every rule that applies to struct attributes (`StoredName` is about fields, which the
/// runtime never sees).
const STRUCT_RULES: &[Rule] = &[
    Rule::CookieNameToken,
    Rule::CookieNameLength,
    Rule::PathForm,
    Rule::DomainForm,
    Rule::PrefixForm,
    Rule::FilenameTemplateForm,
    Rule::PositiveSeconds,
    Rule::OutOfRange,
    Rule::SameSiteNoneNeedsSecure,
    Rule::PrefixedNameNeedsSecure,
    Rule::HostNameHasNoDomain,
    Rule::HostNameHasRootPath,
    Rule::CompressionNeedsFlags,
    Rule::DictionaryNeedsFlags,
    Rule::DictionaryNeedsCookieStore,
    Rule::DictionaryNeedsCompression,
    Rule::NotForThisStore,
    Rule::LifetimeShorterThanIdle,
    Rule::LegacyHasNoTime,
];

/// A side's verdict: the settings it refused (empty: accepted).
type Verdict = Vec<String>;

/// The derive's verdict: its real parse and check, on a struct carrying the attribute.
fn compile_side(attribute: &str) -> Verdict {
    let input = derive_input(attribute);
    let cx = Ctxt::new();
    let model = Input::from_ast(&cx, &input);
    crate::check::check(&cx, &model);
    let errors = cx.take();
    let mut refused: Verdict = Setting::ALL
        .iter()
        .filter(|s| model.attrs.was_rejected(**s))
        .map(|s| s.name().to_owned())
        .collect();
    refused.extend(
        crate::check::settings_problems(&model.attrs)
            .into_iter()
            .map(|p| p.setting.name().to_owned()),
    );
    // Every error is one of these: no other check fires on this struct.
    assert_eq!(errors.len(), refused.len(), "{attribute}: {errors:?}");
    refused
}

fn derive_input(attribute: &str) -> DeriveInput {
    let source = format!("#[session({attribute})] struct Probe {{ counter: u32 }}");
    syn::parse_str(&source).expect("the cases are valid Rust")
}

/// The attribute's `key = literal` pairs, as the runtime side replays them.
fn pairs(attribute: &str) -> Vec<(String, Lit)> {
    let input = derive_input(attribute);
    let mut pairs = Vec::new();
    for attr in &input.attrs {
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            pairs.push((key, meta.value()?.parse::<Lit>()?));
            Ok(())
        })
        .expect("the cases are `key = literal` pairs");
    }
    pairs
}

/// A session type written by hand, as the derive would write it.
struct Probe;

impl SessionSchema for Probe {
    const FIELDS: &'static [&'static str] = &[];

    fn attributes() -> Attributes {
        Attributes::new("Probe", "probe")
    }

    fn encode_fields(&self, _: &mut FieldEncoder) -> Result<(), FieldError> {
        Ok(())
    }

    fn decode_fields(_: &StoredFields<'_>) -> Result<Self, FieldError> {
        Ok(Probe)
    }
}

/// The runtime's verdict: the same values through the public builder, then `build()`.
fn run_time_side(attribute: &str, runtime: &tokio::runtime::Runtime) -> Verdict {
    let pairs = pairs(attribute);
    let mut builder = SessionLayerBuilder::<Probe>::new()
        .ephemeral_secret()
        .session_dir(std::env::temp_dir().join("session-macros-agreement"));
    for (key, value) in &pairs {
        builder = set(builder, key, value);
    }
    match runtime.block_on(builder.build()) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Invalid { setting, .. }) => vec![setting],
        Err(other) => vec![format!("(not a setting: {other})")],
    }
}

/// Sets one attribute through the builder method of the same name.
fn set(b: SessionLayerBuilder<Probe>, key: &str, v: &Lit) -> SessionLayerBuilder<Probe> {
    match key {
        "cookie_name" => b.cookie_name(string(v)),
        "expire" => b.expire(Duration::from_secs(int(v))),
        "max_lifetime" => b.max_lifetime(Some(Duration::from_secs(int(v)))),
        "secure" => b.secure(boolean(v)),
        "domain" => b.domain(Some(string(v))),
        "path" => b.path(string(v)),
        "prefix" => b.prefix(string(v)),
        "store" => b.store(string(v).parse::<StoreChoice>().expect("a built-in store")),
        "encryption_mode" => {
            b.encryption_mode(string(v).parse::<EncryptionMode>().expect("a mode"))
        }
        "compression_level" => b.compression_level(int(v).try_into().expect("an i32")),
        "compression_dictionary" => b.compression_dictionary(dictionary()),
        "max_cookie_size" => b.max_cookie_size(int(v).try_into().expect("a usize")),
        "same_site" => b.same_site(same_site(&string(v))),
        "oversize" => b.oversize(oversize(&string(v))),
        "filename_template" => b.filename_template(string(v)),
        other => panic!("no builder method for `{other}` in this test"),
    }
}

fn string(v: &Lit) -> String {
    match v {
        Lit::Str(s) => s.value(),
        _ => panic!("a string"),
    }
}

fn int(v: &Lit) -> u64 {
    match v {
        Lit::Int(i) => i.base10_parse().expect("a u64"),
        _ => panic!("an integer"),
    }
}

fn boolean(v: &Lit) -> bool {
    match v {
        Lit::Bool(b) => b.value,
        _ => panic!("a boolean"),
    }
}

fn same_site(name: &str) -> SameSite {
    match session_settings::SameSite::from_name(name) {
        Some(session_settings::SameSite::Strict) => SameSite::Strict,
        Some(session_settings::SameSite::Lax) => SameSite::Lax,
        Some(session_settings::SameSite::None) => SameSite::None,
        None => panic!("a same_site spelling"),
    }
}

fn oversize(name: &str) -> Oversize {
    match session_settings::Oversize::from_name(name) {
        Some(session_settings::Oversize::Error) => Oversize::Error,
        Some(session_settings::Oversize::Chunk) => Oversize::Chunk,
        None => panic!("an oversize spelling"),
    }
}

/// A real zstd dictionary, as `compression_dictionary` would include.
fn dictionary() -> Vec<u8> {
    let samples: Vec<Vec<u8>> = (0..500)
        .map(|i| {
            format!(
                r#"{{"counter":{i},"user":"user-{}","theme":"dark"}}"#,
                i * 7919 % 1000
            )
            .into_bytes()
        })
        .collect();
    zstd::dict::from_samples(&samples, 2048).expect("zstd trains on the samples")
}

#[test]
fn the_derive_and_the_runtime_agree_on_every_rule() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let cases = cases();
    let mut disagreements = Vec::new();
    for (attribute, expect) in &cases {
        let compile = compile_side(attribute);
        match expect {
            Accept => assert!(
                compile.is_empty(),
                "the derive refuses `{attribute}`: {compile:?}"
            ),
            Refuse(setting, _) => assert!(
                compile.iter().any(|s| s == setting.name()),
                "the derive does not refuse `{setting}` in `{attribute}`: {compile:?}"
            ),
        }
        let run_time = run_time_side(attribute, &runtime);
        let agree = match (compile.is_empty(), run_time.first()) {
            (true, None) => true,
            (false, Some(setting)) => compile.contains(setting),
            _ => false,
        };
        if !agree {
            disagreements.push(format!(
                "#[session({attribute})]: derive refuses {compile:?}, runtime refuses {run_time:?}"
            ));
        }
    }
    for rule in STRUCT_RULES {
        assert!(
            cases
                .iter()
                .any(|(_, e)| matches!(e, Refuse(_, r) if r == rule)),
            "no case for {rule:?}"
        );
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}
