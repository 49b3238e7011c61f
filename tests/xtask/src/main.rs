//! `cargo xtask test [ARGS...]`: makes sure every program the tests drive is installed, then
//! runs `cargo test --workspace [ARGS...]`.
//!
//! The tests start their own servers and browser (a `redis-server`, a PostgreSQL cluster,
//! memcached, headless Chromium through chromedriver), so they need those programs but no
//! running service. What is missing is installed with the system's package manager when this
//! runs as root on Debian or Ubuntu; otherwise the task stops at once with the exact command to
//! run, instead of letting dozens of tests fail one by one.
//!
//! `cargo xtask check` only reports what is missing (exit status 1 if anything is).

use std::path::Path;
use std::process::{Command, ExitCode};

mod requirements;

use requirements::{REQUIREMENTS, Requirement};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("test") => match ensure_installed() {
            Ok(()) => run_tests(&rest),
            Err(message) => fail(&message),
        },
        Some("check") => {
            let missing = missing();
            if missing.is_empty() {
                println!("everything the tests need is installed");
                return ExitCode::SUCCESS;
            }
            fail(&install_advice(&missing))
        }
        _ => {
            eprintln!(
                "usage: cargo xtask test [cargo test arguments...]\n       cargo xtask check\n\n\
                 test   installs what the tests need (as root on Debian or Ubuntu), then runs\n       \
                 cargo test --workspace\ncheck  lists what the tests need that is missing"
            );
            ExitCode::from(2)
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("xtask: {message}");
    ExitCode::FAILURE
}

/// The requirements whose programs cannot be found.
fn missing() -> Vec<&'static Requirement> {
    REQUIREMENTS.iter().filter(|r| !r.is_installed()).collect()
}

/// Installs what is missing, or says exactly how to.
fn ensure_installed() -> Result<(), String> {
    let missing = missing();
    if missing.is_empty() {
        return Ok(());
    }
    if !can_install() {
        return Err(install_advice(&missing));
    }
    let packages = packages(&missing);
    eprintln!("xtask: installing {}", packages.join(" "));
    apt_get(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(packages.iter().map(String::as_str));
    apt_get(&install)?;
    let still_missing = self::missing();
    if still_missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "installed the packages, but still cannot find: {}",
            still_missing
                .iter()
                .map(|r| r.what)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// The Debian package names that provide `missing`, each once.
fn packages(missing: &[&Requirement]) -> Vec<String> {
    let mut packages: Vec<String> = Vec::new();
    for package in missing.iter().flat_map(|r| r.debian_packages) {
        if !packages.iter().any(|p| p == package) {
            packages.push((*package).to_owned());
        }
    }
    packages
}

/// The sentence that tells a reader what to install, when this task cannot.
fn install_advice(missing: &[&Requirement]) -> String {
    let what: Vec<&str> = missing.iter().map(|r| r.what).collect();
    let packages = packages(missing).join(" ");
    let other = if is_debian_like() {
        ""
    } else {
        " (that is the Debian and Ubuntu command; elsewhere install the same programs with your system's package manager)"
    };
    format!(
        "the tests need {}, not found. Install them with\n\n    sudo apt-get install -y {packages}\n\n\
         then run `cargo xtask test` again{other}. Run as root on Debian or Ubuntu, `cargo xtask test` installs them itself.",
        what.join(", ")
    )
}

fn can_install() -> bool {
    is_root() && is_debian_like() && Path::new("/usr/bin/apt-get").exists()
}

fn is_root() -> bool {
    // The effective uid from procfs: no libc call (no unsafe code) and no dependency.
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn is_debian_like() -> bool {
    std::fs::read_to_string("/etc/os-release").is_ok_and(|release| {
        release.lines().any(|line| {
            let Some((key, value)) = line.split_once('=') else {
                return false;
            };
            let value = value.trim_matches('"');
            (key == "ID" || key == "ID_LIKE")
                && value
                    .split_whitespace()
                    .any(|id| id == "debian" || id == "ubuntu")
        })
    })
}

fn apt_get(args: &[&str]) -> Result<(), String> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("could not run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`apt-get {}` failed ({status})", args.join(" ")))
    }
}

fn run_tests(args: &[String]) -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["test", "--workspace"])
        .args(args)
        .status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
        Err(e) => fail(&format!("could not run cargo: {e}")),
    }
}
