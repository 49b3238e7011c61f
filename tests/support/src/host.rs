//! What the server launchers need to know about the machine: who runs the tests, and where a
//! server may keep its files.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Whether the tests run as root, which PostgreSQL and memcached refuse to run as.
pub fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
            .unwrap_or(false)
    })
}

/// A directory name under the system temp directory that no other server uses:
/// `session-runtime-<kind>-<process id>-<port>-<nanoseconds>`. It is not created.
pub fn unique_dir(kind: &str, port: u16) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!(
        "session-runtime-{kind}-{}-{port}-{nanos}",
        std::process::id()
    ))
}
