//! `build()` checks the settings with the rules the derive uses, and names the setting at fault.

use std::time::Duration;

use session_runtime::{ConfigError, Session, StoreChoice};

const SECRET: &str = "a secret of at least thirty-two bytes, for tests";

#[derive(Session)]
#[session(cookie_name = "visit")]
struct Visit {
    counter: u32,
}

#[derive(Session)]
#[session(cookie_name = "cart", store = "files", filename_template = "cart_%s")]
struct Cart {
    items: Vec<String>,
}

fn setting(error: ConfigError) -> String {
    match error {
        ConfigError::Invalid { setting, .. } => setting,
        other => panic!("expected an invalid setting, got {other}"),
    }
}

#[tokio::test]
async fn cookie_name_prefixes_match_in_any_case() {
    for name in ["__Host-id", "__HOST-id", "__host-id", "__SECURE-id"] {
        let error = Visit::layer()
            .secret(SECRET)
            .cookie_name(name)
            .build()
            .await
            .unwrap_err();
        assert!(error.to_string().contains("requires `secure`"), "{error}");
        assert_eq!(setting(error), "cookie_name");
    }
    let secure = Visit::layer()
        .secret(SECRET)
        .cookie_name("__HOST-id")
        .secure(true)
        .build()
        .await;
    assert!(secure.is_ok());
}

#[tokio::test]
async fn cookie_names_have_one_length_limit() {
    let limit = session_settings::defaults::MAX_COOKIE_NAME_LEN;
    let at_limit = Visit::layer()
        .secret(SECRET)
        .cookie_name("a".repeat(limit))
        .build()
        .await;
    assert!(at_limit.is_ok());
    let over = Visit::layer()
        .secret(SECRET)
        .cookie_name("a".repeat(limit + 1))
        .build()
        .await
        .unwrap_err();
    assert!(over.to_string().contains("at most 200"), "{over}");
    assert_eq!(setting(over), "cookie_name");
}

#[tokio::test]
async fn an_option_written_beside_a_store_that_ignores_it_is_refused() {
    let error = Visit::layer()
        .secret(SECRET)
        .store(StoreChoice::Cookie)
        .prefix("visit:")
        .build()
        .await
        .unwrap_err();
    assert_eq!(setting(error), "prefix");
    let error = Visit::layer()
        .store(StoreChoice::Memory)
        .max_cookie_size(1024)
        .build()
        .await
        .unwrap_err();
    assert_eq!(setting(error), "max_cookie_size");
    // Without the store beside it, the option alone is no mistake.
    assert!(
        Visit::layer()
            .prefix("v:")
            .secret(SECRET)
            .build()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_option_inherited_from_the_attribute_follows_a_change_of_store() {
    // `filename_template` comes from the attribute, for the files store; the builder moves
    // the type to memory, as in development.
    let layer = Cart::layer()
        .store(StoreChoice::Memory)
        .expire(Duration::from_secs(60))
        .build()
        .await;
    assert!(layer.is_ok());
}

#[tokio::test]
async fn a_store_without_its_directory_says_what_to_set() {
    let error = Cart::layer().build().await.unwrap_err();
    assert!(error.to_string().contains("SESSION_DIR"), "{error}");
    assert_eq!(setting(error), "store = files");
}

#[test]
fn the_builders_debug_hides_secrets() {
    let builder = Visit::layer()
        .secret(SECRET)
        .previous_secrets(["an older secret of thirty-two bytes or more"]);
    let debug = format!("{builder:?}");
    assert!(!debug.contains("thirty-two"), "{debug}");
    assert!(debug.contains("builder"), "{debug}");
    assert!(debug.contains("previous secret #1"), "{debug}");
}
