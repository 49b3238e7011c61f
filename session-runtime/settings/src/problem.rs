//! What a rule reports: the setting at fault, which rule, and a sentence saying what to do.

use std::fmt;

use crate::setting::Setting;

/// Every rule, so that tests and tools can tell problems apart without matching on words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// A cookie name is an RFC 6265 token.
    CookieNameToken,
    /// A cookie name is at most [`MAX_COOKIE_NAME_LEN`](crate::defaults::MAX_COOKIE_NAME_LEN).
    CookieNameLength,
    /// A path starts with `/` and holds nothing that ends or corrupts the attribute.
    PathForm,
    /// A domain is a non-empty host name without separators.
    DomainForm,
    /// A store key prefix is short visible ASCII.
    PrefixForm,
    /// A file name template has one `%s` and cannot leave the directory or hide.
    FilenameTemplateForm,
    /// A number of seconds is at least 1.
    PositiveSeconds,
    /// A number is within its setting's range.
    OutOfRange,
    /// `SameSite=None` needs `Secure`.
    SameSiteNoneNeedsSecure,
    /// `__Host-` and `__Secure-` names need `Secure`.
    PrefixedNameNeedsSecure,
    /// `__Host-` names have no domain.
    HostNameHasNoDomain,
    /// `__Host-` names have path `/`.
    HostNameHasRootPath,
    /// Legacy values cannot be compressed.
    CompressionNeedsFlags,
    /// A dictionary needs a mode with a flags byte.
    DictionaryNeedsFlags,
    /// A dictionary only serves the cookie store.
    DictionaryNeedsCookieStore,
    /// A dictionary needs a compression level.
    DictionaryNeedsCompression,
    /// A setting written beside a store that does not read it.
    NotForThisStore,
    /// The absolute lifetime is at least the idle timeout.
    LifetimeShorterThanIdle,
    /// A stored field name is usable.
    StoredName,
    /// `legacy` cookies carry no time, so they cannot take an explicit `expire` or a
    /// `max_lifetime`.
    LegacyHasNoTime,
}

impl Rule {
    /// Whether a compile error is best shown on the attribute's key (the setting is wrong to
    /// have at all) rather than on its value (the value is wrong).
    pub const fn points_at_key(self) -> bool {
        matches!(
            self,
            Rule::HostNameHasNoDomain
                | Rule::DictionaryNeedsFlags
                | Rule::DictionaryNeedsCookieStore
                | Rule::DictionaryNeedsCompression
                | Rule::NotForThisStore
                | Rule::LegacyHasNoTime
        )
    }
}

/// A setting whose value breaks a rule.
///
/// ```
/// use session_settings::{Rule, Setting, rules};
///
/// let problem = rules::cookie_path("app").unwrap_err();
/// assert_eq!(problem.setting, Setting::Path);
/// assert_eq!(problem.rule, Rule::PathForm);
/// assert!(problem.message.contains("must start with `/`"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The setting to change.
    pub setting: Setting,
    /// The rule it breaks.
    pub rule: Rule,
    /// What is wrong and what to do, as one sentence.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(setting: Setting, rule: Rule, message: impl Into<String>) -> Self {
        Problem {
            setting,
            rule,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

impl std::error::Error for Problem {}
