//! A client: its own cookie jar, one request at a time to a randomly chosen instance, and the
//! history of what it sent and what it got.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::checker::{Exchange, Op, Outcome, mark};

/// The most requests one client sends before the final reads: the run is bounded even if the
/// fault plan stalls.
const MAX_REQUESTS: u32 = 300;
/// Attempts of each final read, 100 ms apart, while the stores reconnect after the faults.
const FINAL_ATTEMPTS: u32 = 50;
/// Ids kept for replays.
const RETIRED_KEPT: usize = 8;

/// A small deterministic generator (splitmix64): the run's choices follow from its seed.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }

    /// A duration between `low_ms` and `high_ms` milliseconds.
    pub fn millis(&mut self, low_ms: u64, high_ms: u64) -> Duration {
        Duration::from_millis(low_ms + self.below(high_ms - low_ms + 1))
    }
}

/// The HTTP client all clients share (each sends its own cookie by hand).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        // A bound, not a speed check: a request that never ends is recorded as no answer.
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the HTTP client")
}

/// What an answer's `Set-Cookie` does to the jar.
enum JarChange {
    Keep,
    Set(String),
    Remove,
}

/// One client of the two instances.
#[derive(Debug)]
pub struct Client {
    id: u32,
    http: reqwest::Client,
    bases: [String; 2],
    cookie_name: String,
    rng: Rng,
    jar: Option<String>,
    /// Ids this client saw destroyed or regenerated away, for replays.
    retired: Vec<String>,
    sent: u32,
    history: Vec<Exchange>,
}

impl Client {
    /// Client `id` of the instances at `bases`, whose session cookie is `cookie_name`.
    pub fn new(
        id: u32,
        http: reqwest::Client,
        bases: [String; 2],
        cookie_name: &str,
        seed: u64,
    ) -> Client {
        Client {
            id,
            http,
            bases,
            cookie_name: cookie_name.to_owned(),
            rng: Rng::new(seed ^ (u64::from(id) + 1).wrapping_mul(0xA24B_AED4_963E_E407)),
            jar: None,
            retired: Vec::new(),
            sent: 0,
            history: Vec::new(),
        }
    }

    /// Its number.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Its history, in the order it sent the requests.
    pub fn into_history(self) -> Vec<Exchange> {
        self.history
    }

    /// Sends random requests to random instances until `stop` or the request bound.
    pub async fn run(&mut self, stop: &AtomicBool) {
        while self.sent < MAX_REQUESTS && !stop.load(Ordering::SeqCst) {
            let op = self.next_op();
            let instance = self.rng.below(2) as usize;
            self.send(instance, op).await;
            let pause = self.rng.millis(10, 60);
            tokio::time::sleep(pause).await;
        }
    }

    /// Reads through each instance until one read is acknowledged; false if an instance never
    /// acknowledged one.
    pub async fn final_reads(&mut self) -> bool {
        for instance in 0..2 {
            let mut acknowledged = false;
            for _ in 0..FINAL_ATTEMPTS {
                if let Outcome::Answered { status: 200, .. } = self.send(instance, Op::Read).await {
                    acknowledged = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if !acknowledged {
                return false;
            }
        }
        true
    }

    fn next_op(&mut self) -> Op {
        let mark = mark(self.id);
        let seq = self.sent;
        match self.rng.below(100) {
            0..40 => Op::Change {
                note: format!("{mark}n{seq}"),
            },
            40..65 => Op::Read,
            65..75 => Op::Login {
                user: format!("{mark}user"),
                token: format!("{mark}t{seq}"),
            },
            75..85 => Op::Regenerate,
            85..92 => Op::Logout,
            _ if !self.retired.is_empty() => Op::Replay,
            _ => Op::Read,
        }
    }

    fn path(op: &Op) -> String {
        match op {
            Op::Login { user, token } => format!("/login?user={user}&token={token}"),
            Op::Change { note } => format!("/change?note={note}"),
            Op::Read | Op::Replay => "/read".to_owned(),
            Op::Regenerate => "/regenerate".to_owned(),
            Op::Logout => "/logout".to_owned(),
        }
    }

    /// Sends one request, updates the jar (except for a replay) and records the exchange.
    async fn send(&mut self, instance: usize, op: Op) -> Outcome {
        self.sent += 1;
        let replayed = match op {
            Op::Replay => {
                let pick = self.rng.below(self.retired.len() as u64) as usize;
                self.retired.get(pick).cloned()
            }
            _ => None,
        };
        let cookie_before = replayed.clone().or_else(|| self.jar.clone());
        let mut request = self
            .http
            .get(format!("{}{}", self.bases[instance], Self::path(&op)));
        if let Some(id) = &cookie_before {
            request = request.header(http::header::COOKIE, format!("{}={id}", self.cookie_name));
        }
        let (outcome, change) = match request.send().await {
            Ok(response) => {
                let change = self.jar_change(response.headers());
                let status = response.status().as_u16();
                match response.text().await {
                    Ok(body) => (Outcome::Answered { status, body }, change),
                    Err(e) => (Outcome::NoAnswer(format!("body: {e}")), change),
                }
            }
            Err(e) => (Outcome::NoAnswer(e.to_string()), JarChange::Keep),
        };
        if replayed.is_none() {
            match change {
                JarChange::Keep => {}
                JarChange::Set(id) => self.jar = Some(id),
                JarChange::Remove => self.jar = None,
            }
        }
        self.remember_retired(&op, &outcome, &cookie_before);
        self.history.push(Exchange {
            client: self.id,
            instance,
            op,
            cookie_before,
            cookie_after: self.jar.clone(),
            outcome: outcome.clone(),
        });
        outcome
    }

    /// Keeps the id an acknowledged logout, login or regenerate replaced, for replays.
    fn remember_retired(&mut self, op: &Op, outcome: &Outcome, before: &Option<String>) {
        let acknowledged =
            matches!(outcome, Outcome::Answered { status, .. } if (200..300).contains(status));
        let replaces = matches!(op, Op::Login { .. } | Op::Regenerate | Op::Logout);
        if let Some(old) = before {
            if acknowledged && replaces && self.jar.as_ref() != Some(old) {
                if self.retired.len() == RETIRED_KEPT {
                    self.retired.remove(0);
                }
                self.retired.push(old.clone());
            }
        }
    }

    fn jar_change(&self, headers: &http::HeaderMap) -> JarChange {
        let mut change = JarChange::Keep;
        for header in headers.get_all(http::header::SET_COOKIE) {
            let Some(parsed) = header
                .to_str()
                .ok()
                .and_then(|h| cookie::Cookie::parse(h.to_owned()).ok())
            else {
                continue;
            };
            if parsed.name() != self.cookie_name {
                continue;
            }
            let removal =
                parsed.value().is_empty() || parsed.max_age() == Some(cookie::time::Duration::ZERO);
            change = if removal {
                JarChange::Remove
            } else {
                JarChange::Set(parsed.value().to_owned())
            };
        }
        change
    }
}
