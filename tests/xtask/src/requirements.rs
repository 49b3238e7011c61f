//! What the tests drive, how to find it, and which Debian packages provide it: the one list
//! that `cargo xtask` and CI read.

use std::path::Path;

/// A program (or a set of them) the tests start.
pub(crate) struct Requirement {
    /// How messages name it.
    pub(crate) what: &'static str,
    /// Executables that must all be found.
    programs: &'static [&'static str],
    /// Directories searched besides `PATH` (globs of one `*` segment).
    extra_dirs: &'static [&'static str],
    /// The Debian and Ubuntu packages that install it.
    pub(crate) debian_packages: &'static [&'static str],
}

/// Everything the test suite needs.
pub(crate) const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        what: "redis-server (Redis and Redis Cluster store tests)",
        programs: &["redis-server"],
        extra_dirs: &[],
        debian_packages: &["redis-server"],
    },
    Requirement {
        // Debian keeps initdb and pg_ctl out of PATH, in a directory per major version.
        what: "PostgreSQL's initdb and pg_ctl (PostgreSQL store tests)",
        programs: &["initdb", "pg_ctl"],
        extra_dirs: &["/usr/lib/postgresql/*/bin"],
        debian_packages: &["postgresql"],
    },
    Requirement {
        what: "memcached (memcached store tests)",
        programs: &["memcached"],
        extra_dirs: &[],
        debian_packages: &["memcached"],
    },
    Requirement {
        what: "chromium and chromedriver (browser tests)",
        programs: &["chromium", "chromedriver"],
        extra_dirs: &[],
        debian_packages: &["chromium", "chromium-driver"],
    },
];

impl Requirement {
    /// Whether every program is on `PATH` or in one of the extra directories.
    pub(crate) fn is_installed(&self) -> bool {
        self.programs.iter().all(|program| {
            search_path()
                .chain(self.extra_dirs.iter().flat_map(|d| expand(d)))
                .any(|dir| is_executable(&dir.join(program)))
        })
    }
}

fn search_path() -> impl Iterator<Item = std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).collect::<Vec<_>>().into_iter()
}

/// `/usr/lib/postgresql/*/bin` -> every matching directory.
fn expand(pattern: &str) -> Vec<std::path::PathBuf> {
    let Some((head, tail)) = pattern.split_once("/*/") else {
        return vec![pattern.into()];
    };
    let Ok(entries) = std::fs::read_dir(head) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path().join(tail))
        .collect()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_program_on_path_and_not_a_made_up_one() {
        let sh = Requirement {
            what: "sh",
            programs: &["sh"],
            extra_dirs: &[],
            debian_packages: &[],
        };
        assert!(sh.is_installed());
        let nothing = Requirement {
            what: "nothing",
            programs: &["no-such-program-xtask-looks-for"],
            extra_dirs: &["/nonexistent/*/bin"],
            debian_packages: &[],
        };
        assert!(!nothing.is_installed());
    }

    #[test]
    fn expands_one_star() {
        let dir = std::env::temp_dir().join(format!("xtask-expand-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("15/bin")).unwrap();
        let found = expand(&format!("{}/*/bin", dir.display()));
        assert_eq!(found, vec![dir.join("15/bin")]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
