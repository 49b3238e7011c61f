//! Reads a history of requests and names every answer the session contract forbids.
//!
//! Each client sends one request at a time, so its history is a sequence and the check is strict
//! per client. The model of a client is the set of contents its cookie may load: one value after
//! an acknowledged (2xx) request, several after a 503, whose write may or may not have happened
//! (its effect stays unknown until the next acknowledged request shows which). A violation is:
//!
//! - an acknowledged request answering contents outside that set (an acknowledged write lost, or
//!   a change nobody made);
//! - a destroyed or regenerated-away id that loads data again;
//! - an answer carrying a value another client wrote;
//! - a status other than 2xx and 503 (503 is the documented answer of an unavailable store), or
//!   no answer at all.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// What a session holds: every handler answers it as JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contents {
    /// Set by login.
    pub user: Option<String>,
    /// Set by login: unique to the client and the login.
    pub token: Option<String>,
    /// Set by change.
    pub note: Option<String>,
}

/// The prefix of every value client `client` writes, so that an answer can be traced to the
/// client whose data it carries.
pub fn mark(client: u32) -> String {
    format!("c{client}-")
}

/// One request a client can send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Sets `user` and `token`, then regenerates the id (a privilege change).
    Login {
        /// The new `user`.
        user: String,
        /// The new `token`.
        token: String,
    },
    /// Sets `note`.
    Change {
        /// The new `note`.
        note: String,
    },
    /// Answers the contents.
    Read,
    /// Moves the session to a new id.
    Regenerate,
    /// Destroys the session; answers `out`.
    Logout,
    /// A read with an id this client saw destroyed or regenerated away, outside its cookie jar.
    Replay,
}

impl Op {
    /// A short name, for summaries.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Login { .. } => "login",
            Op::Change { .. } => "change",
            Op::Read => "read",
            Op::Regenerate => "regenerate",
            Op::Logout => "logout",
            Op::Replay => "replay",
        }
    }

    /// The contents a successful request leaves, from the contents it loaded.
    fn apply(&self, loaded: &Contents) -> Contents {
        match self {
            Op::Login { user, token } => Contents {
                user: Some(user.clone()),
                token: Some(token.clone()),
                note: loaded.note.clone(),
            },
            Op::Change { note } => Contents {
                note: Some(note.clone()),
                ..loaded.clone()
            },
            Op::Read | Op::Regenerate | Op::Replay | Op::Logout => loaded.clone(),
        }
    }

    /// Whether a half-done attempt can leave the id in the jar pointing at nothing: these delete
    /// the old record, and the new cookie (if any) is only sent with a 2xx.
    fn may_end_the_record(&self) -> bool {
        matches!(self, Op::Login { .. } | Op::Regenerate | Op::Logout)
    }
}

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The app answered.
    Answered {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// The app did not answer (a transport error or the client's own bound).
    NoAnswer(String),
}

/// One request and its answer, as the client saw it.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Which client sent it.
    pub client: u32,
    /// Which app instance answered.
    pub instance: usize,
    /// What was asked.
    pub op: Op,
    /// The session id sent (for [`Op::Replay`], the replayed one).
    pub cookie_before: Option<String>,
    /// The id in the client's jar after the answer's `Set-Cookie` (unchanged by a replay).
    pub cookie_after: Option<String>,
    /// The answer.
    pub outcome: Outcome,
}

/// A forbidden answer, with where it happened.
#[derive(Debug)]
pub struct Violation {
    /// The client.
    pub client: u32,
    /// The position of the exchange in that client's history.
    pub step: usize,
    /// The instance that answered.
    pub instance: usize,
    /// The request.
    pub op: Op,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "client {} step {} ({:?} on instance {}): {}",
            self.client, self.step, self.op, self.instance, self.what
        )
    }
}

/// Checks a whole history (the exchanges of each client in the order it sent them; clients may
/// interleave).
pub fn check(history: &[Exchange]) -> Vec<Violation> {
    let mut clients: BTreeMap<u32, Vec<&Exchange>> = BTreeMap::new();
    for exchange in history {
        clients.entry(exchange.client).or_default().push(exchange);
    }
    let mut violations = Vec::new();
    for (client, exchanges) in clients {
        let mut model = Model::new(client);
        for (step, exchange) in exchanges.into_iter().enumerate() {
            if let Err(what) = model.step(exchange) {
                violations.push(Violation {
                    client,
                    step,
                    instance: exchange.instance,
                    op: exchange.op.clone(),
                    what,
                });
            }
        }
    }
    violations
}

/// What one client may read next.
struct Model {
    mark: String,
    /// The contents the id in the jar may load.
    possible: Vec<Contents>,
    /// Ids this client saw destroyed or regenerated away: they must load nothing.
    retired: BTreeSet<String>,
}

impl Model {
    fn new(client: u32) -> Model {
        Model {
            mark: mark(client),
            possible: vec![Contents::default()],
            retired: BTreeSet::new(),
        }
    }

    fn step(&mut self, exchange: &Exchange) -> Result<(), String> {
        match &exchange.outcome {
            Outcome::Answered { status, body } if (200..300).contains(status) => {
                self.acknowledged(exchange, body)
            }
            Outcome::Answered { status: 503, .. } => {
                self.unacknowledged(exchange);
                Ok(())
            }
            Outcome::Answered { status, body } => {
                self.unacknowledged(exchange);
                Err(format!(
                    "answered {status} {body:?}: only 2xx and 503 are allowed"
                ))
            }
            Outcome::NoAnswer(why) => {
                self.unacknowledged(exchange);
                Err(format!("no answer: {why}"))
            }
        }
    }

    fn acknowledged(&mut self, exchange: &Exchange, body: &str) -> Result<(), String> {
        if exchange.op == Op::Logout {
            self.retire(exchange);
            self.possible = vec![Contents::default()];
            return if body == "out" {
                Ok(())
            } else {
                Err(format!("logout answered {body:?}"))
            };
        }
        let answer: Contents = serde_json::from_str(body)
            .map_err(|e| format!("answered {body:?}, not session contents: {e}"))?;
        self.owned(&answer)?;
        if exchange.op == Op::Replay {
            return match &exchange.cookie_before {
                Some(id) if self.retired.contains(id) && answer != Contents::default() => Err(
                    format!("a destroyed session was read again: it answered {answer:?}"),
                ),
                _ => Ok(()),
            };
        }
        let expected: Vec<Contents> = self.possible.iter().map(|c| exchange.op.apply(c)).collect();
        if !expected.contains(&answer) {
            return Err(format!(
                "answered {answer:?}, none of the possible {expected:?}: an acknowledged write \
                 was lost"
            ));
        }
        if matches!(exchange.op, Op::Login { .. } | Op::Regenerate) {
            self.retire(exchange);
        }
        // A removal cookie says the session ended while the request ran: its changes are
        // dropped, and the client knows it.
        self.possible = match exchange.cookie_after {
            Some(_) => vec![answer],
            None => vec![Contents::default()],
        };
        Ok(())
    }

    /// After a 503 (or no answer) the write may or may not have happened.
    fn unacknowledged(&mut self, exchange: &Exchange) {
        if exchange.op == Op::Replay {
            return;
        }
        if exchange.cookie_after.is_none() {
            self.possible = vec![Contents::default()];
            return;
        }
        let mut possible = self.possible.clone();
        for loaded in &self.possible {
            possible.push(exchange.op.apply(loaded));
        }
        if exchange.op.may_end_the_record() || exchange.cookie_after != exchange.cookie_before {
            possible.push(Contents::default());
        }
        let mut unique = Vec::new();
        for contents in possible {
            if !unique.contains(&contents) {
                unique.push(contents);
            }
        }
        self.possible = unique;
    }

    /// The id sent is gone for good once the answer replaced or removed it.
    fn retire(&mut self, exchange: &Exchange) {
        if let Some(old) = &exchange.cookie_before {
            if exchange.cookie_after.as_ref() != Some(old) {
                self.retired.insert(old.clone());
            }
        }
    }

    /// Every value in an answer must be one this client wrote.
    fn owned(&self, answer: &Contents) -> Result<(), String> {
        let values = [&answer.user, &answer.token, &answer.note];
        match values
            .into_iter()
            .flatten()
            .find(|v| !v.starts_with(&self.mark))
        {
            Some(foreign) => Err(format!(
                "answered {answer:?}: {foreign:?} is another session's data"
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a one-client history step by step, tracking the jar as the client does.
    struct Script {
        jar: Option<String>,
        history: Vec<Exchange>,
    }

    fn contents(user: Option<&str>, token: Option<&str>, note: Option<&str>) -> String {
        serde_json::to_string(&Contents {
            user: user.map(str::to_owned),
            token: token.map(str::to_owned),
            note: note.map(str::to_owned),
        })
        .unwrap()
    }

    impl Script {
        fn new() -> Script {
            Script {
                jar: None,
                history: Vec::new(),
            }
        }

        /// An exchange that leaves `jar_after` in the jar.
        fn push(&mut self, op: Op, status: u16, body: &str, jar_after: Option<&str>) -> &mut Self {
            let before = self.jar.clone();
            let after = jar_after.map(str::to_owned);
            let (cookie_before, cookie_after) = match op {
                Op::Replay => (after.clone(), before.clone()),
                _ => (before, after.clone()),
            };
            if op != Op::Replay {
                self.jar = after;
            }
            self.history.push(Exchange {
                client: 1,
                instance: 0,
                op,
                cookie_before,
                cookie_after,
                outcome: Outcome::Answered {
                    status,
                    body: body.to_owned(),
                },
            });
            self
        }

        fn login(&mut self) -> &mut Self {
            let op = Op::Login {
                user: "c1-user".into(),
                token: "c1-t1".into(),
            };
            let body = contents(Some("c1-user"), Some("c1-t1"), None);
            self.push(op, 200, &body, Some("id-a"))
        }

        fn violations(&self) -> Vec<String> {
            check(&self.history).iter().map(|v| v.to_string()).collect()
        }
    }

    fn change(note: &str) -> Op {
        Op::Change { note: note.into() }
    }

    #[test]
    fn a_clean_history_passes() {
        let mut s = Script::new();
        s.login()
            .push(
                change("c1-n1"),
                200,
                &contents(Some("c1-user"), Some("c1-t1"), Some("c1-n1")),
                Some("id-a"),
            )
            .push(
                Op::Regenerate,
                200,
                &contents(Some("c1-user"), Some("c1-t1"), Some("c1-n1")),
                Some("id-b"),
            )
            .push(Op::Logout, 200, "out", None)
            .push(Op::Replay, 200, &contents(None, None, None), Some("id-b"))
            .push(Op::Replay, 200, &contents(None, None, None), Some("id-a"))
            .push(Op::Read, 200, &contents(None, None, None), None);
        assert_eq!(s.violations(), Vec::<String>::new());
    }

    #[test]
    fn a_lost_acknowledged_write_fails() {
        let mut s = Script::new();
        s.login()
            .push(
                change("c1-n1"),
                200,
                &contents(Some("c1-user"), Some("c1-t1"), Some("c1-n1")),
                Some("id-a"),
            )
            .push(
                Op::Read,
                200,
                &contents(Some("c1-user"), Some("c1-t1"), None),
                Some("id-a"),
            );
        let found = s.violations();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("acknowledged write was lost"),
            "{found:?}"
        );
    }

    #[test]
    fn a_session_that_vanishes_without_a_503_fails() {
        let mut s = Script::new();
        s.login()
            .push(Op::Read, 200, &contents(None, None, None), None);
        assert_eq!(s.violations().len(), 1);
    }

    #[test]
    fn a_503_write_may_or_may_not_have_happened_until_a_read_says_which() {
        let read = |note: Option<&str>| contents(Some("c1-user"), Some("c1-t1"), note);
        for seen in [None, Some("c1-n1")] {
            let mut s = Script::new();
            s.login()
                .push(change("c1-n1"), 503, "store unavailable", Some("id-a"))
                .push(Op::Read, 200, &read(seen), Some("id-a"))
                .push(Op::Read, 200, &read(seen), Some("id-a"));
            assert_eq!(s.violations(), Vec::<String>::new());
            // Once a read has shown which, the other value is a violation.
            let other = if seen.is_some() { None } else { Some("c1-n1") };
            s.push(Op::Read, 200, &read(other), Some("id-a"));
            assert_eq!(s.violations().len(), 1, "after seeing {seen:?}");
        }
    }

    #[test]
    fn a_503_regenerate_may_leave_the_old_id_empty() {
        let mut s = Script::new();
        s.login()
            .push(Op::Regenerate, 503, "store unavailable", Some("id-a"))
            .push(Op::Read, 200, &contents(None, None, None), None);
        assert_eq!(s.violations(), Vec::<String>::new());
    }

    #[test]
    fn a_destroyed_session_read_again_fails() {
        let mut s = Script::new();
        s.login().push(Op::Logout, 200, "out", None).push(
            Op::Replay,
            200,
            &contents(Some("c1-user"), Some("c1-t1"), None),
            Some("id-a"),
        );
        let found = s.violations();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("destroyed session was read again"),
            "{found:?}"
        );
    }

    #[test]
    fn a_regenerated_away_id_read_again_fails() {
        let mut s = Script::new();
        s.login()
            .push(
                Op::Regenerate,
                200,
                &contents(Some("c1-user"), Some("c1-t1"), None),
                Some("id-b"),
            )
            .push(
                Op::Replay,
                200,
                &contents(Some("c1-user"), Some("c1-t1"), None),
                Some("id-a"),
            );
        assert_eq!(s.violations().len(), 1);
    }

    #[test]
    fn another_sessions_data_fails() {
        let mut s = Script::new();
        s.login().push(
            Op::Read,
            200,
            &contents(Some("c12-user"), Some("c12-t4"), None),
            Some("id-a"),
        );
        let found = s.violations();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("another session's data"), "{found:?}");
    }

    #[test]
    fn a_5xx_other_than_503_fails_and_503_does_not() {
        let mut s = Script::new();
        s.login()
            .push(Op::Read, 503, "store unavailable", Some("id-a"))
            .push(Op::Read, 500, "boom", Some("id-a"))
            .push(Op::Read, 502, "bad gateway", Some("id-a"));
        assert_eq!(s.violations().len(), 2);
    }

    #[test]
    fn no_answer_fails() {
        let mut s = Script::new();
        s.login();
        s.history.push(Exchange {
            client: 1,
            instance: 1,
            op: Op::Read,
            cookie_before: Some("id-a".into()),
            cookie_after: Some("id-a".into()),
            outcome: Outcome::NoAnswer("connection reset".into()),
        });
        assert_eq!(s.violations().len(), 1);
    }
}
