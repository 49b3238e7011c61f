//! The enums a setting takes as a string, read through the spellings of `session_settings`.

use session_settings::{EncryptionMode, Oversize, SameSite, StoreKind};

/// A closed set of names from the settings specification, and the runtime type that holds
/// the same variants (the derive emits `EncryptionMode::Legacy` from `"legacy"`).
pub trait Spelling: Copy + 'static {
    /// Every accepted spelling.
    const NAMES: &'static [&'static str];
    /// What these names are, for messages.
    const WHAT: &'static str;
    /// The runtime's type of the same name, under the private path.
    const RUNTIME_TYPE: &'static str;
    /// The value spelled `name`.
    fn from_name(name: &str) -> Option<Self>;
    /// The identifier of the variant, shared with the runtime's enum.
    fn variant(self) -> &'static str;
}

macro_rules! spelling {
    ($($spec:ident => $runtime:literal),+ $(,)?) => {$(
        impl Spelling for $spec {
            const NAMES: &'static [&'static str] = $spec::NAMES;
            const WHAT: &'static str = $spec::WHAT;
            const RUNTIME_TYPE: &'static str = $runtime;
            fn from_name(name: &str) -> Option<Self> {
                $spec::from_name(name)
            }
            fn variant(self) -> &'static str {
                $spec::variant(self)
            }
        }
    )+};
}

spelling! {
    EncryptionMode => "EncryptionMode",
    SameSite => "SameSite",
    Oversize => "Oversize",
    StoreKind => "StoreChoice",
}

/// `"a", "b" or "c"`.
pub fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}
