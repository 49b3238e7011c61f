//! The secrets a layer seals with, and where each came from (so an error can say which one is
//! too short).

use std::fmt;

/// Where a secret came from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    /// [`secret`](super::SessionLayerBuilder::secret).
    Builder,
    /// [`previous_secrets`](super::SessionLayerBuilder::previous_secrets), numbered from 1.
    BuilderPrevious(usize),
    /// The environment variable holding the current secret.
    Env(String),
    /// An entry, numbered from 1, of the environment variable holding retired secrets.
    EnvPrevious {
        /// The variable.
        variable: String,
        /// Its position in the variable.
        entry: usize,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builder => f.write_str("builder"),
            Origin::BuilderPrevious(n) => write!(f, "previous secret #{n}"),
            Origin::Env(variable) => f.write_str(variable),
            Origin::EnvPrevious { variable, entry } => write!(f, "{variable} (entry {entry})"),
        }
    }
}

/// A secret and where it came from.
type Entry = (Origin, Vec<u8>);

/// The current secret and the retired ones, each from code and from the environment, kept
/// apart so that the order of the builder's calls cannot change which one seals: the
/// environment's current secret wins over the builder's (production overrides the code's
/// development secret), and a retired secret never seals.
#[derive(Clone, Default)]
pub(super) struct Secrets {
    /// [`secret`](super::SessionLayerBuilder::secret)'s, the last given.
    builder_current: Option<Entry>,
    /// The environment's, the last read.
    env_current: Option<Entry>,
    /// [`previous_secrets`](super::SessionLayerBuilder::previous_secrets)', in order.
    builder_retired: Vec<Entry>,
    /// The environment's retired list, the last read.
    env_retired: Vec<Entry>,
}

impl Secrets {
    /// The builder's current secret; replaces the builder's earlier one.
    pub(super) fn set_current(&mut self, secret: &[u8]) {
        self.builder_current = Some((Origin::Builder, secret.to_vec()));
    }

    /// Retired secrets from the builder, after the ones it already gave.
    pub(super) fn add_previous<S: AsRef<[u8]>>(&mut self, secrets: impl IntoIterator<Item = S>) {
        let first = self.builder_retired.len() + 1;
        for (i, secret) in secrets.into_iter().enumerate() {
            self.builder_retired
                .push((Origin::BuilderPrevious(first + i), secret.as_ref().to_vec()));
        }
    }

    /// The environment's current secret: it seals, whatever the builder was given before or
    /// after (the builder's current secret is dropped from the ring, not retired: a
    /// development secret must not open production cookies).
    pub(super) fn set_from_env(&mut self, variable: &str, secret: String) {
        self.env_current = Some((Origin::Env(variable.to_owned()), secret.into_bytes()));
    }

    /// The environment's retired secrets, whitespace separated: they replace the environment's
    /// earlier list and join the builder's, so a rotation listed in code survives a deployment
    /// that lists its own.
    pub(super) fn set_previous_from_env(&mut self, variable: &str, secrets: &str) {
        self.env_retired = secrets
            .split_whitespace()
            .enumerate()
            .map(|(i, secret)| {
                let origin = Origin::EnvPrevious {
                    variable: variable.to_owned(),
                    entry: i + 1,
                };
                (origin, secret.as_bytes().to_vec())
            })
            .collect();
    }

    /// Whether a current secret is configured (the environment's or the builder's).
    pub(super) fn has_current(&self) -> bool {
        self.current().is_some()
    }

    /// Whether retired secrets are configured.
    pub(super) fn has_retired(&self) -> bool {
        !self.builder_retired.is_empty() || !self.env_retired.is_empty()
    }

    /// Whether the retired secrets that are configured came from the environment only.
    pub(super) fn retired_from_env_only(&self) -> bool {
        self.builder_retired.is_empty() && !self.env_retired.is_empty()
    }

    fn current(&self) -> Option<&Entry> {
        self.env_current.as_ref().or(self.builder_current.as_ref())
    }

    /// The secrets in key-ring order: the current one (which seals), then the retired ones.
    fn ring(&self) -> impl Iterator<Item = &Entry> {
        self.current()
            .into_iter()
            .chain(&self.builder_retired)
            .chain(&self.env_retired)
    }

    /// The first secret shorter than `min` bytes, as (where it came from, its length).
    pub(super) fn first_shorter_than(&self, min: usize) -> Option<(String, usize)> {
        self.ring()
            .find(|(_, secret)| secret.len() < min)
            .map(|(origin, secret)| (origin.to_string(), secret.len()))
    }

    /// The secrets' bytes, in key-ring order.
    pub(super) fn bytes(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.ring().map(|(_, secret)| secret)
    }
}

/// The origins only: a secret never reaches a log.
impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.ring().map(|(origin, _)| origin.to_string()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environments_current_secret_seals_whatever_the_order() {
        let mut secrets = Secrets::default();
        secrets.set_from_env("APP_SECRET", "three".into());
        secrets.set_current(b"one");
        secrets.add_previous([b"two"]);
        secrets.set_previous_from_env("APP_SECRET_PREVIOUS", "four five");
        assert_eq!(
            format!("{secrets:?}"),
            r#"["APP_SECRET", "previous secret #1", "APP_SECRET_PREVIOUS (entry 1)", "APP_SECRET_PREVIOUS (entry 2)"]"#
        );
        assert_eq!(
            secrets.first_shorter_than(4),
            Some(("previous secret #1".into(), 3))
        );
        assert!(!format!("{secrets:?}").contains("three"));
    }

    #[test]
    fn retired_secrets_never_seal() {
        let mut secrets = Secrets::default();
        secrets.set_previous_from_env("APP_SECRET_PREVIOUS", "old");
        assert!(!secrets.has_current());
        assert!(secrets.has_retired() && secrets.retired_from_env_only());
        secrets.add_previous([b"older"]);
        secrets.add_previous([b"oldest"]);
        assert_eq!(
            format!("{secrets:?}"),
            r#"["previous secret #1", "previous secret #2", "APP_SECRET_PREVIOUS (entry 1)"]"#
        );
        assert!(!secrets.retired_from_env_only());
    }
}
