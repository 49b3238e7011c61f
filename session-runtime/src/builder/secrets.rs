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

/// The secrets in key-ring order: the first seals, every one opens.
#[derive(Clone, Default)]
pub(super) struct Secrets {
    entries: Vec<(Origin, Vec<u8>)>,
}

impl Secrets {
    /// The builder's current secret replaces the builder's earlier one and goes first.
    pub(super) fn set_current(&mut self, secret: &[u8]) {
        self.entries
            .retain(|(origin, _)| *origin != Origin::Builder);
        self.entries.insert(0, (Origin::Builder, secret.to_vec()));
    }

    /// Retired secrets from the builder, after the ones already held.
    pub(super) fn add_previous<S: AsRef<[u8]>>(&mut self, secrets: impl IntoIterator<Item = S>) {
        for (i, secret) in secrets.into_iter().enumerate() {
            self.entries
                .push((Origin::BuilderPrevious(i + 1), secret.as_ref().to_vec()));
        }
    }

    /// The environment's current secret: it replaces every secret but the builder's current
    /// one, which keeps sealing.
    pub(super) fn set_from_env(&mut self, variable: &str, secret: String) {
        self.entries
            .retain(|(origin, _)| *origin == Origin::Builder);
        self.entries
            .push((Origin::Env(variable.to_owned()), secret.into_bytes()));
    }

    /// The environment's retired secrets, whitespace separated, after the ones already held.
    pub(super) fn add_previous_from_env(&mut self, variable: &str, secrets: &str) {
        for (i, secret) in secrets.split_whitespace().enumerate() {
            let origin = Origin::EnvPrevious {
                variable: variable.to_owned(),
                entry: i + 1,
            };
            self.entries.push((origin, secret.as_bytes().to_vec()));
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first secret shorter than `min` bytes, as (where it came from, its length).
    pub(super) fn first_shorter_than(&self, min: usize) -> Option<(String, usize)> {
        self.entries
            .iter()
            .find(|(_, secret)| secret.len() < min)
            .map(|(origin, secret)| (origin.to_string(), secret.len()))
    }

    /// The secrets' bytes, in key-ring order.
    pub(super) fn bytes(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.entries.iter().map(|(_, secret)| secret)
    }
}

/// The origins only: a secret never reaches a log.
impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(origin, _)| origin.to_string()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_keeps_only_the_builders_current_secret() {
        let mut secrets = Secrets::default();
        secrets.set_current(b"one");
        secrets.add_previous([b"two"]);
        secrets.set_from_env("APP_SECRET", "three".into());
        secrets.add_previous_from_env("APP_SECRET_PREVIOUS", "four five");
        assert_eq!(
            format!("{secrets:?}"),
            r#"["builder", "APP_SECRET", "APP_SECRET_PREVIOUS (entry 1)", "APP_SECRET_PREVIOUS (entry 2)"]"#
        );
        assert_eq!(secrets.first_shorter_than(4), Some(("builder".into(), 3)));
        assert!(!format!("{secrets:?}").contains("one"));
    }
}
