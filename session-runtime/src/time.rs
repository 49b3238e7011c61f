//! Wall-clock time as unix seconds, the unit of every sealed and stored timestamp.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the unix epoch (0 if the clock is set before 1970).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `SystemTime` of a unix timestamp.
pub(crate) fn system_time(unix: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix)
}
