//! Change tracking: which fields a handler changed, by comparing their encoding before and after.

use crate::error::SaveError;
use crate::schema::{FieldEncoder, SessionSchema};

use super::state::Loaded;

/// The encoding of the fields before the handler could change them.
///
/// It is taken when the handler first asks for `&mut T`, not at load: a handler that only
/// reads never pays for an encoding, and its session is known unchanged without a comparison.
/// Changes made through shared references (`Cell`, `RefCell` fields) are not seen.
pub(crate) enum Baseline {
    /// The handler never had `&mut T`: nothing can have changed.
    Untouched,
    /// The fields as they were before the first `&mut T`.
    Taken(FieldEncoder),
    /// Encoding failed when `&mut T` was first handed out; the save reports the error.
    Unavailable,
}

impl<T: SessionSchema> Loaded<T> {
    /// Records the baseline before the first mutable access.
    pub(crate) fn touch(&mut self) {
        if matches!(self.baseline, Baseline::Untouched) {
            self.baseline = match encode(&self.data) {
                Ok(fields) => Baseline::Taken(fields),
                Err(_) => Baseline::Unavailable,
            };
        }
    }
}

/// What a save found out about the fields: their encoding now, and which changed.
pub(crate) struct Changes {
    pub(crate) current: FieldEncoder,
    /// Indices (into `FIELDS`) of the fields whose encoding differs from the baseline.
    pub(crate) changed: Vec<usize>,
}

impl Changes {
    /// Compares with the baseline; `None` when the handler never had `&mut T`.
    pub(crate) fn compare<T: SessionSchema>(
        data: &T,
        baseline: &Baseline,
    ) -> Result<Option<Self>, SaveError> {
        let previous = match baseline {
            Baseline::Untouched => return Ok(None),
            Baseline::Taken(previous) => Some(previous),
            Baseline::Unavailable => None,
        };
        let current = encode(data).map_err(SaveError::Field)?;
        let changed = (0..T::FIELDS.len())
            .filter(|&i| previous.is_none_or(|p| p.get(i) != current.get(i)))
            .collect();
        Ok(Some(Changes { current, changed }))
    }

    /// Whether any field changed.
    pub(crate) fn any(compared: Option<&Self>) -> bool {
        compared.is_some_and(|changes| !changes.changed.is_empty())
    }

    /// The encoding now, computing it if the comparison was skipped.
    pub(crate) fn current<T: SessionSchema>(
        compared: Option<Self>,
        data: &T,
    ) -> Result<FieldEncoder, SaveError> {
        match compared {
            Some(changes) => Ok(changes.current),
            None => encode(data).map_err(SaveError::Field),
        }
    }
}

fn encode<T: SessionSchema>(data: &T) -> Result<FieldEncoder, crate::FieldError> {
    let mut encoder = FieldEncoder::default();
    data.encode_fields(&mut encoder)?;
    Ok(encoder)
}
