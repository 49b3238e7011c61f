//! `sessions secret`, and that no command takes a secret as an argument.

use crate::support::{sessions, with_secret};

#[test]
fn a_secret_is_64_base64url_characters_and_new_each_time() {
    let first = sessions(&["secret"], &[], "");
    let second = sessions(&["secret"], &[], "");
    for run in [&first, &second] {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout.len(), 64, "{}", run.stdout);
        assert!(
            run.stdout
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{}",
            run.stdout
        );
    }
    assert_ne!(first.stdout, second.stdout);
}

#[test]
fn a_new_secret_is_accepted_by_open_and_seal() {
    let secret = sessions(&["secret"], &[], "").stdout;
    let env = [("SESSION_SECRET", secret.as_str())];
    let seal = ["seal", "--cookie-name", "myapp", "--fields", r#"{"a":1}"#];
    let value = sessions(&seal, &env, "");
    assert_eq!(value.code, 0, "{}", value.stderr);
    let opened = sessions(&["open", "--cookie-name", "myapp", &value.stdout], &env, "");
    assert_eq!(opened.json()["fields"]["a"], 1);
}

#[test]
fn secrets_are_never_arguments() {
    for command in ["open", "seal"] {
        let help = sessions(&[command, "--help"], &[], "");
        assert_eq!(help.code, 0);
        assert!(help.stdout.contains("--cookie-name"), "{}", help.stdout);
        assert!(!help.stdout.contains("--secret"), "{}", help.stdout);
        assert!(!help.stdout.contains("--key"), "{}", help.stdout);
    }
    let run = with_secret(&["open", "--cookie-name", "myapp", "--secret", "x", "v"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn help_documents_the_exit_codes() {
    let help = sessions(&["--help"], &[], "");
    assert_eq!(help.code, 0);
    for line in ["Exit codes:", "3  no key opens the value", "5  expired"] {
        assert!(help.stdout.contains(line), "{}", help.stdout);
    }
}

#[test]
fn a_missing_or_short_secret_is_a_usage_error_naming_the_variable() {
    let args = ["seal", "--cookie-name", "myapp", "--fields", "{}"];
    sessions(&args, &[], "").fails_with(2, "SESSION_SECRET is not set");
    sessions(&args, &[("SESSION_SECRET", "short")], "")
        .fails_with(2, "SESSION_SECRET is 5 bytes long");
    let env = [
        ("SESSION_SECRET", crate::support::SECRET),
        ("SESSION_SECRET_PREVIOUS", "tiny"),
    ];
    sessions(&args, &env, "").fails_with(2, "SESSION_SECRET_PREVIOUS (entry 1) is 4 bytes");
}
