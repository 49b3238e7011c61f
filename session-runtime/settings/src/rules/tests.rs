use super::*;
use crate::SettingSet;

fn rules_of(values: &Values<'_>) -> Vec<(Setting, Rule)> {
    check(values)
        .into_iter()
        .map(|p| (p.setting, p.rule))
        .collect()
}

#[test]
fn cookie_name_tokens() {
    for ok in ["myapp", "my_app", "__Host-id", "a.b-c!#$%&'*+^`|~", "X"] {
        assert_eq!(cookie_name(ok), Ok(()), "{ok}");
    }
    for bad in [
        "", "my app", "a;b", "a=b", "a,b", "a\"b", "a/b", "a\tb", "café", "a\u{7f}", "(x)", "a{b}",
        "a@b", "a:b", "a?b", "a[b]", "a\\b",
    ] {
        assert!(cookie_name(bad).is_err(), "{bad:?}");
    }
    assert!(
        cookie_name("my app")
            .unwrap_err()
            .message
            .contains("a space")
    );
    let long = "a".repeat(defaults::MAX_COOKIE_NAME_LEN + 1);
    assert_eq!(cookie_name(&long).unwrap_err().rule, Rule::CookieNameLength);
    assert_eq!(cookie_name(&long[1..]), Ok(()));
}

#[test]
fn filename_templates() {
    for ok in ["sess_%s", "%s", "%s.json", "a-%s-b"] {
        assert_eq!(filename_template(ok), Ok(()), "{ok}");
    }
    for bad in [
        "sess", "%s%s", "a/%s", "a\\%s", "%s\0", "%d_%s", "100%_%s", "%", "%s%", "", ".%s",
        ".sess_%s",
    ] {
        assert!(filename_template(bad).is_err(), "{bad:?}");
    }
    let message = |t| filename_template(t).unwrap_err().message;
    assert!(message("sess").contains("exactly once"));
    assert!(message("%d_%s").contains("only appear"));
    assert!(message(".%s").contains("start with `.`"));
}

#[test]
fn paths_prefixes_domains() {
    assert_eq!(cookie_path("/"), Ok(()));
    assert_eq!(cookie_path("/app/x"), Ok(()));
    for bad in ["app", "/a;b", "/a\nb", "/a b", "/é"] {
        assert!(cookie_path(bad).is_err(), "{bad:?}");
    }
    assert_eq!(prefix(""), Ok(()));
    assert_eq!(prefix("app:sess:"), Ok(()));
    for bad in ["a b", "a\u{1}", "préfixe"] {
        assert!(prefix(bad).is_err(), "{bad:?}");
    }
    assert!(prefix(&"p".repeat(defaults::MAX_PREFIX_LEN + 1)).is_err());
    assert_eq!(domain("example.com"), Ok(()));
    for bad in ["", "a;b", "a b", "exämple.com"] {
        assert!(domain(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn stored_names() {
    assert_eq!(stored_name("u"), Ok(()));
    assert_eq!(stored_name("a b"), Ok(()));
    assert!(stored_name("").is_err());
    assert!(stored_name("$id").is_err());
    assert!(stored_name("a\nb").is_err());
}

#[test]
fn defaults_pass() {
    assert!(check(&Values::defaults()).is_empty());
}

#[test]
fn prefixed_names_match_in_any_case() {
    for name in [
        "__Host-id",
        "__HOST-id",
        "__host-id",
        "__Secure-id",
        "__SECURE-id",
    ] {
        let values = Values {
            cookie_name: Some(name),
            ..Values::defaults()
        };
        assert_eq!(
            rules_of(&values),
            [(Setting::CookieName, Rule::PrefixedNameNeedsSecure)],
            "{name}"
        );
        let secure = Values {
            secure: Some(true),
            ..values
        };
        assert!(check(&secure).is_empty(), "{name}");
    }
    let host = Values {
        cookie_name: Some("__HoSt-x"),
        secure: Some(true),
        domain: Some("example.com"),
        path: Some("/app"),
        ..Values::defaults()
    };
    assert_eq!(
        rules_of(&host),
        [
            (Setting::Domain, Rule::HostNameHasNoDomain),
            (Setting::Path, Rule::HostNameHasRootPath)
        ]
    );
}

#[test]
fn unknown_values_keep_rules_silent() {
    let values = Values {
        cookie_name: Some("__Host-x"),
        secure: None,
        ..Values::defaults()
    };
    assert!(check(&values).is_empty());
}

#[test]
fn lifetimes_and_compression() {
    let short = Values {
        max_lifetime: Some(10),
        ..Values::defaults()
    };
    let problems = check(&short);
    assert_eq!(problems[0].rule, Rule::LifetimeShorterThanIdle);
    assert!(problems[0].message.contains("3600 s, the default"));
    let legacy = Values {
        encryption_mode: Some(EncryptionMode::Legacy),
        compression_level: Some(3),
        ..Values::defaults()
    };
    assert_eq!(
        rules_of(&legacy),
        [(Setting::CompressionLevel, Rule::CompressionNeedsFlags)]
    );
    assert_eq!(
        rules_of(&Values {
            expire: Some(0),
            ..Values::defaults()
        }),
        [(Setting::Expire, Rule::PositiveSeconds)]
    );
}

#[test]
fn dictionaries() {
    let base = Values {
        compression_dictionary: true,
        ..Values::defaults()
    };
    assert_eq!(
        rules_of(&base),
        [(
            Setting::CompressionDictionary,
            Rule::DictionaryNeedsCompression
        )]
    );
    let on_redis = Values {
        store: Some(StoreValue::Builtin(StoreKind::Redis)),
        compression_level: Some(3),
        ..base.clone()
    };
    assert_eq!(
        rules_of(&on_redis),
        [(
            Setting::CompressionDictionary,
            Rule::DictionaryNeedsCookieStore
        )]
    );
    let legacy = Values {
        encryption_mode: Some(EncryptionMode::Legacy),
        ..base
    };
    assert_eq!(
        rules_of(&legacy),
        [(Setting::CompressionDictionary, Rule::DictionaryNeedsFlags)]
    );
}

#[test]
fn store_options_only_where_written_together() {
    let written: SettingSet = [Setting::Store, Setting::Prefix, Setting::FilenameTemplate]
        .into_iter()
        .collect();
    let cookie = Values {
        store: Some(StoreValue::Builtin(StoreKind::Cookie)),
        prefix: Some("app:"),
        written,
        ..Values::defaults()
    };
    assert_eq!(
        rules_of(&cookie),
        [
            (Setting::FilenameTemplate, Rule::NotForThisStore),
            (Setting::Prefix, Rule::NotForThisStore)
        ]
    );
    let inherited = Values {
        written: SettingSet::EMPTY,
        ..cookie
    };
    assert!(check(&inherited).is_empty());
}

#[test]
fn chunks_only_when_chunking() {
    let values = Values {
        max_chunks: Some(1),
        ..Values::defaults()
    };
    assert!(check(&values).is_empty());
    let chunking = Values {
        oversize: Some(Oversize::Chunk),
        ..values
    };
    assert_eq!(
        rules_of(&chunking),
        [(Setting::MaxChunks, Rule::OutOfRange)]
    );
}

#[test]
fn integers_as_written() {
    for setting in [Setting::Expire, Setting::MaxLifetime] {
        assert_eq!(integer(setting, 1), Some(Ok(())));
        for bad in [0, -1, i128::from(u64::MAX) + 1] {
            let problem = integer(setting, bad).unwrap().unwrap_err();
            assert_eq!(
                (problem.setting, problem.rule),
                (setting, Rule::PositiveSeconds)
            );
        }
    }
    assert_eq!(integer(Setting::CompressionLevel, 22), Some(Ok(())));
    assert_eq!(integer(Setting::MaxCookieSize, 64), Some(Ok(())));
    assert_eq!(integer(Setting::MaxChunks, 2), Some(Ok(())));
    for (setting, bad) in [
        (Setting::CompressionLevel, -1),
        (Setting::CompressionLevel, i128::from(i32::MAX) + 1),
        (Setting::MaxCookieSize, -64),
        (Setting::MaxCookieSize, 4097),
        (Setting::MaxChunks, 1),
    ] {
        let problem = integer(setting, bad).unwrap().unwrap_err();
        assert_eq!((problem.setting, problem.rule), (setting, Rule::OutOfRange));
        assert!(problem.message.ends_with(&format!("found {bad}")));
    }
    assert_eq!(integer(Setting::Secure, 1), None);
    assert_eq!(
        seconds(Setting::Expire, 0).unwrap_err().message,
        "`expire` must be at least 1 (it is a number of seconds); found 0"
    );
}

#[test]
fn legacy_cookies_refuse_written_timeouts() {
    let legacy = Values {
        encryption_mode: Some(EncryptionMode::Legacy),
        ..Values::defaults()
    };
    // The defaults, and a store left to run time, are the cookie store's: accepted.
    assert!(check(&legacy).is_empty());
    let written = Values {
        expire: Some(600),
        expire_is_default: false,
        max_lifetime: Some(7200),
        max_lifetime_is_default: false,
        ..legacy.clone()
    };
    assert_eq!(
        rules_of(&written),
        [
            (Setting::Expire, Rule::LegacyHasNoTime),
            (Setting::MaxLifetime, Rule::LegacyHasNoTime)
        ]
    );
    assert!(
        check(&written)[0]
            .message
            .contains("legacy values carry no time")
    );
    // A default absolute lifetime is not applied to a legacy cookie store, so not refused.
    let default_lifetime = Values {
        max_lifetime: Some(86_400),
        ..legacy.clone()
    };
    assert!(check(&default_lifetime).is_empty());
    let on_cookie = Values {
        store: Some(StoreValue::Builtin(StoreKind::Cookie)),
        ..written.clone()
    };
    assert_eq!(check(&on_cookie).len(), 2);
    for server in [StoreValue::Builtin(StoreKind::Redis), StoreValue::Custom] {
        let on_server = Values {
            store: Some(server),
            ..written.clone()
        };
        assert!(check(&on_server).is_empty(), "{server:?}");
    }
    let modern = Values {
        encryption_mode: Some(EncryptionMode::Modern),
        ..written
    };
    assert!(check(&modern).is_empty());
}
