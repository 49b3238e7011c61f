//! Every metric name, label key and label value the layer emits, in one table.
//!
//! Label values come from closed sets ([`RefusalReason`], [`StoreOp`], the store kinds and the
//! session type's name), never from what a client sent, so a hostile client cannot make a
//! time series per request.

use crate::codec::OpenError;
use crate::engine::Refused;

/// Counter: sessions extracted by handlers.
pub const LOADS: &str = "session_loads_total";
/// Counter: extractions that started a fresh session.
pub const FRESH: &str = "session_fresh_total";
/// Counter: presented cookies or records refused, labelled with [`REASON`].
pub const REFUSED: &str = "session_refused_total";
/// Counter: presented sessions refused because they had expired.
pub const EXPIRED: &str = "session_expired_total";
/// Counter: store calls that failed (answered 503).
pub const STORE_ERRORS: &str = "session_store_errors_total";
/// Counter: saves that sent a `Set-Cookie` (a written session, or a removal).
pub const WRITES: &str = "session_writes_total";
/// Counter: saves that failed (the response became an error).
pub const SAVE_ERRORS: &str = "session_save_errors_total";
/// Histogram: how long one store call took, in seconds, labelled with [`STORE`] and [`OP`].
pub const STORE_DURATION: &str = "session_store_duration_seconds";

/// Label on every metric: the session type's name (the struct's name, as in the logs).
pub const SESSION: &str = "session";
/// Label of [`REFUSED`]: a [`RefusalReason::label`].
pub const REASON: &str = "reason";
/// Label of [`STORE_DURATION`]: the store kind (`memory`, `files`, `redis`, `postgres`,
/// `memcached`, or `custom` for a store handed to the builder).
pub const STORE: &str = "store";
/// Label of [`STORE_DURATION`]: a [`StoreOp::label`].
pub const OP: &str = "op";

/// Why a presented cookie or record was refused (expiry is counted apart, in [`EXPIRED`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalReason {
    /// The value did not authenticate: changed, truncated into another valid shape, or moved
    /// from another cookie.
    Tampered,
    /// No key in the ring has the value's key id (a removed key, or another app's cookie).
    WrongKey,
    /// Not a value of the codec's format (encoding, length, version, layout, zstd frame).
    Malformed,
    /// Longer than the cookie limit, or would decompress past the size limit.
    TooLarge,
    /// Compressed with a dictionary the layer does not have.
    Dictionary,
    /// Sealed with an issue time in the future (clock skew past the tolerance).
    FromTheFuture,
    /// It opened, but its fields do not decode into the session type.
    Undecodable,
    /// The cookie is not a well-formed session id (server-side stores).
    MalformedId,
    /// No live record has this id (server-side stores; strict mode).
    UnknownId,
    /// A legacy value after the layer's `accept_legacy_until` deadline.
    LegacyPastDeadline,
}

impl RefusalReason {
    /// Every reason, in the order of [`RefusedByReason`](super::RefusedByReason).
    pub const ALL: [RefusalReason; 10] = [
        RefusalReason::Tampered,
        RefusalReason::WrongKey,
        RefusalReason::Malformed,
        RefusalReason::TooLarge,
        RefusalReason::Dictionary,
        RefusalReason::FromTheFuture,
        RefusalReason::Undecodable,
        RefusalReason::MalformedId,
        RefusalReason::UnknownId,
        RefusalReason::LegacyPastDeadline,
    ];

    /// The value of the [`REASON`] label.
    pub const fn label(self) -> &'static str {
        match self {
            RefusalReason::Tampered => "tampered",
            RefusalReason::WrongKey => "wrong_key",
            RefusalReason::Malformed => "malformed",
            RefusalReason::TooLarge => "too_large",
            RefusalReason::Dictionary => "dictionary",
            RefusalReason::FromTheFuture => "from_the_future",
            RefusalReason::Undecodable => "undecodable",
            RefusalReason::MalformedId => "malformed_id",
            RefusalReason::UnknownId => "unknown_id",
            RefusalReason::LegacyPastDeadline => "legacy_past_deadline",
        }
    }

    /// The position in [`ALL`](Self::ALL).
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The reason a refusal is counted under; `None` for an expired session, which has its
    /// own counter.
    pub(crate) fn of(refused: &Refused) -> Option<RefusalReason> {
        Some(match refused {
            Refused::Open(error) => Self::of_open_error(error),
            Refused::Expired => return None,
            Refused::FromTheFuture => RefusalReason::FromTheFuture,
            Refused::Fields(_) => RefusalReason::Undecodable,
            Refused::MalformedId => RefusalReason::MalformedId,
            Refused::UnknownId => RefusalReason::UnknownId,
            Refused::LegacyDeadline => RefusalReason::LegacyPastDeadline,
        })
    }

    fn of_open_error(error: &OpenError) -> RefusalReason {
        match error {
            OpenError::Authentication => RefusalReason::Tampered,
            OpenError::UnknownKey => RefusalReason::WrongKey,
            OpenError::TooLong | OpenError::TooLarge => RefusalReason::TooLarge,
            OpenError::Dictionary => RefusalReason::Dictionary,
            OpenError::Encoding
            | OpenError::Truncated
            | OpenError::UnknownVersion
            | OpenError::Malformed
            | OpenError::Decompress => RefusalReason::Malformed,
        }
    }
}

/// A store operation, as timed in [`STORE_DURATION`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreOp {
    /// Reading a session's record.
    Load,
    /// Writing a new record.
    Create,
    /// Writing the changed fields and the new expiry of a record.
    Update,
    /// Removing a record.
    Delete,
}

impl StoreOp {
    /// Every operation.
    pub const ALL: [StoreOp; 4] = [
        StoreOp::Load,
        StoreOp::Create,
        StoreOp::Update,
        StoreOp::Delete,
    ];

    /// The value of the [`OP`] label.
    pub const fn label(self) -> &'static str {
        match self {
            StoreOp::Load => "load",
            StoreOp::Create => "create",
            StoreOp::Update => "update",
            StoreOp::Delete => "delete",
        }
    }

    /// The position in [`ALL`](Self::ALL).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// What a metric measures, for the recorder's descriptions.
#[cfg(feature = "metrics")]
pub(crate) struct Description {
    pub(crate) name: &'static str,
    pub(crate) unit: metrics::Unit,
    pub(crate) help: &'static str,
}

/// The counters' descriptions.
#[cfg(feature = "metrics")]
pub(crate) const COUNTERS: [Description; 7] = {
    use metrics::Unit::Count;
    [
        Description {
            name: LOADS,
            unit: Count,
            help: "Sessions extracted by handlers.",
        },
        Description {
            name: FRESH,
            unit: Count,
            help: "Extractions that started a fresh session (no cookie, or one that was refused).",
        },
        Description {
            name: REFUSED,
            unit: Count,
            help: "Presented cookies or records refused, by reason (tampered, wrong key, malformed, unknown id, ...).",
        },
        Description {
            name: EXPIRED,
            unit: Count,
            help: "Presented sessions refused because they had expired.",
        },
        Description {
            name: STORE_ERRORS,
            unit: Count,
            help: "Store calls that failed (answered 503).",
        },
        Description {
            name: WRITES,
            unit: Count,
            help: "Saves that sent a Set-Cookie (a written session, or a removal).",
        },
        Description {
            name: SAVE_ERRORS,
            unit: Count,
            help: "Saves that failed (the response became an error).",
        },
    ]
};

/// The histograms' descriptions.
#[cfg(feature = "metrics")]
pub(crate) const HISTOGRAMS: [Description; 1] = [Description {
    name: STORE_DURATION,
    unit: metrics::Unit::Seconds,
    help: "Duration of one session store call, by store and operation.",
}];
