//! The contenders of the HTTP load harness (`src/bin/load.rs`) and what the store benchmarks
//! (`benches/stores.rs`) share.
//!
//! Every contender is an axum router with the same three routes over the same session data
//! (a counter and a user profile, about 200 bytes of JSON):
//!
//! - `GET /login`: the warm-up write that gives the client its session (all fields set);
//! - `GET /read`: reads the counter and the profile and answers with a short line;
//! - `GET /write`: increments the counter and answers with the same line.
//!
//! Two contenders have no session: bare axum, the ceiling, which carries no cookie at all, and
//! the floor (`floor`), bare axum carrying the same `Cookie` and `Set-Cookie` bytes as this
//! library's cookie contender; ratios to the floor isolate what the session work costs.
//! [`client`] drives a router in process, as the instruction-count benchmark
//! (`src/bin/instructions.rs`) does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use serde::{Deserialize, Serialize};
use session_runtime::{Session, StoreChoice};

pub mod client;
pub mod floor;
pub mod machine;

/// The cookie name of every contender with a cookie (the `cookie_name` of [`Profile`] too).
pub const COOKIE_NAME: &str = "bench";

/// The two measured routes every contender serves (`/login` only gives the client its session).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    /// `GET /read`: reads the counter and the profile.
    Read,
    /// `GET /write`: increments the counter.
    Write,
}

impl Route {
    /// Both routes, read first.
    pub const ALL: [Route; 2] = [Route::Read, Route::Write];

    /// The route's path.
    pub fn path(self) -> &'static str {
        match self {
            Route::Read => "/read",
            Route::Write => "/write",
        }
    }

    /// The route's name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Route::Read => "read",
            Route::Write => "write",
        }
    }

    /// The route named `s`.
    pub fn parse(s: &str) -> Result<Route, String> {
        Route::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown route `{s}`"))
    }
}

/// The secret every sealing contender uses.
pub const SECRET: &str = "benchmark secret: 0123456789abcdef0123456789abcdef";

/// The session of this library's contenders: one typed field per value.
#[derive(Session)]
#[session(cookie_name = "bench", expire = 3600)]
pub struct Profile {
    /// Incremented by `/write`.
    pub counter: u64,
    /// The logged-in user.
    pub user_id: u64,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Preferred locale.
    pub locale: String,
    /// UI theme.
    pub theme: String,
    /// A CSRF token.
    pub csrf: String,
}

/// The same data as one serde value, for the contenders that keep a JSON document.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProfileData {
    /// Incremented by `/write`.
    pub counter: u64,
    /// The logged-in user.
    pub user_id: u64,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Preferred locale.
    pub locale: String,
    /// UI theme.
    pub theme: String,
    /// A CSRF token.
    pub csrf: String,
}

impl ProfileData {
    /// What `/login` stores: a realistic logged-in user (about 200 bytes as JSON).
    pub fn sample() -> ProfileData {
        ProfileData {
            counter: 0,
            user_id: 48_213,
            name: "Ada Lovelace".to_owned(),
            email: "ada.lovelace@example.com".to_owned(),
            roles: ["admin", "editor", "billing", "viewer"]
                .map(str::to_owned)
                .to_vec(),
            locale: "en-GB".to_owned(),
            theme: "dark".to_owned(),
            csrf: "9f86d081884c7d659a2feaa0c55ad015".to_owned(),
        }
    }

    /// The answer of `/read` and `/write`.
    pub fn line(&self) -> String {
        line(self.user_id, &self.name, self.roles.len(), self.counter)
    }
}

pub(crate) fn line(user_id: u64, name: &str, roles: usize, counter: u64) -> String {
    format!("user {user_id} {name}, {roles} roles, counter {counter}")
}

/// One server configuration under load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contender {
    /// axum with no session at all: the ceiling.
    Bare,
    /// axum with no session, carrying a cookie as large as [`Contender::Cookie`]'s: the floor.
    Floor,
    /// This library, cookie store, `modern` sealing.
    Cookie,
    /// This library, cookie store, `modern` sealing, zstd level 3.
    CookieZstd3,
    /// This library, memory store.
    Memory,
    /// This library, Redis store.
    Redis,
    /// tower-sessions with its memory store.
    TowerMemory,
    /// tower-sessions with tower-sessions-redis-store (fred).
    TowerRedis,
    /// axum-extra's `PrivateCookieJar` holding the data as JSON.
    PrivateJar,
}

impl Contender {
    /// Every contender, bare axum and the floor first.
    pub const ALL: [Contender; 9] = [
        Contender::Bare,
        Contender::Floor,
        Contender::Cookie,
        Contender::CookieZstd3,
        Contender::Memory,
        Contender::Redis,
        Contender::TowerMemory,
        Contender::TowerRedis,
        Contender::PrivateJar,
    ];

    /// The name in tables and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Contender::Bare => "bare axum",
            Contender::Floor => "floor (bare axum + cookie bytes)",
            Contender::Cookie => "session-runtime cookie",
            Contender::CookieZstd3 => "session-runtime cookie zstd 3",
            Contender::Memory => "session-runtime memory",
            Contender::Redis => "session-runtime redis",
            Contender::TowerMemory => "tower-sessions memory",
            Contender::TowerRedis => "tower-sessions redis",
            Contender::PrivateJar => "axum-extra PrivateCookieJar",
        }
    }

    /// A short name for the chart.
    pub fn short(self) -> &'static str {
        match self {
            Contender::Bare => "bare",
            Contender::Floor => "floor",
            Contender::Cookie => "cookie",
            Contender::CookieZstd3 => "cookie+zstd3",
            Contender::Memory => "memory",
            Contender::Redis => "redis",
            Contender::TowerMemory => "ts memory",
            Contender::TowerRedis => "ts redis",
            Contender::PrivateJar => "private jar",
        }
    }

    /// Whether it has no session (bare axum and the floor), so keeps no per-client counter.
    pub fn is_baseline(self) -> bool {
        matches!(self, Contender::Bare | Contender::Floor)
    }

    /// Whether it needs Redis.
    pub fn uses_redis(self) -> bool {
        matches!(self, Contender::Redis | Contender::TowerRedis)
    }

    /// The router of this contender; `redis_url` is needed by the Redis contenders.
    pub async fn router(self, redis_url: Option<&str>) -> Result<Router, String> {
        let redis_url = || redis_url.ok_or_else(|| format!("{} needs a Redis URL", self.name()));
        Ok(match self {
            Contender::Bare => bare(),
            Contender::Floor => floor::router(floor::CookieBytes::measure().await?),
            Contender::Cookie => cookie().await?,
            Contender::CookieZstd3 => ours(StoreChoice::Cookie, 3, None).await?,
            Contender::Memory => ours(StoreChoice::Memory, 0, None).await?,
            Contender::Redis => ours(StoreChoice::Redis, 0, Some(redis_url()?)).await?,
            Contender::TowerMemory => tower(tower_sessions::MemoryStore::default()),
            Contender::TowerRedis => tower(tower_redis(redis_url()?).await?),
            Contender::PrivateJar => private_jar(),
        })
    }
}

fn bare() -> Router {
    let counter = Arc::new(AtomicU64::new(0));
    let profile = Arc::new(ProfileData::sample());
    Router::new()
        .route("/login", get(|| async { "ok" }))
        .route(
            "/read",
            get({
                let profile = profile.clone();
                move || async move { profile.line() }
            }),
        )
        .route(
            "/write",
            get(move || async move {
                let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
                line(profile.user_id, &profile.name, profile.roles.len(), n)
            }),
        )
}

/// This library's cookie contender (the floor measures its bytes).
pub(crate) async fn cookie() -> Result<Router, String> {
    ours(StoreChoice::Cookie, 0, None).await
}

async fn ours(store: StoreChoice, level: i32, redis_url: Option<&str>) -> Result<Router, String> {
    async fn login(mut s: Session<Profile>) -> &'static str {
        let d = ProfileData::sample();
        s.counter = d.counter;
        s.user_id = d.user_id;
        s.name = d.name;
        s.email = d.email;
        s.roles = d.roles;
        s.locale = d.locale;
        s.theme = d.theme;
        s.csrf = d.csrf;
        "ok"
    }
    async fn read(s: Session<Profile>) -> String {
        line(s.user_id, &s.name, s.roles.len(), s.counter)
    }
    async fn write(mut s: Session<Profile>) -> String {
        s.counter += 1;
        line(s.user_id, &s.name, s.roles.len(), s.counter)
    }
    let mut builder = Profile::layer()
        .secret(SECRET)
        .store(store)
        .compression_level(level);
    if let Some(url) = redis_url {
        builder = builder.redis_url(url);
    }
    let layer = builder.build().await.map_err(|e| e.to_string())?;
    Ok(Router::new()
        .route("/login", get(login))
        .route("/read", get(read))
        .route("/write", get(write))
        .layer(layer))
}

/// A tower-sessions Redis store on one fred connection (this library's Redis store also uses one
/// multiplexed connection).
async fn tower_redis(
    url: &str,
) -> Result<
    tower_sessions_redis_store::RedisStore<tower_sessions_redis_store::fred::prelude::Client>,
    String,
> {
    use tower_sessions_redis_store::fred::prelude::{Client, ClientLike, Config};
    let config = Config::from_url(url).map_err(|e| e.to_string())?;
    let client = Client::new(config, None, None, None);
    client.init().await.map_err(|e| e.to_string())?;
    Ok(tower_sessions_redis_store::RedisStore::new(client))
}

fn tower<S: tower_sessions::SessionStore + Clone>(store: S) -> Router {
    use tower_sessions::cookie::time::Duration;
    use tower_sessions::{Expiry, SessionManagerLayer};

    type Session = tower_sessions::Session;
    const KEY: &str = "profile";

    async fn get_profile(session: &Session) -> Result<ProfileData, StatusCode> {
        session
            .get::<ProfileData>(KEY)
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)
            .map(Option::unwrap_or_default)
    }
    async fn login(session: Session) -> Result<&'static str, StatusCode> {
        session
            .insert(KEY, ProfileData::sample())
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        Ok("ok")
    }
    async fn read(session: Session) -> Result<String, StatusCode> {
        Ok(get_profile(&session).await?.line())
    }
    async fn write(session: Session) -> Result<String, StatusCode> {
        let mut profile = get_profile(&session).await?;
        profile.counter += 1;
        let answer = profile.line();
        session
            .insert(KEY, profile)
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        Ok(answer)
    }
    // An idle timeout of an hour, as `expire = 3600` is for this library.
    let layer = SessionManagerLayer::new(store)
        .with_name("bench")
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(Duration::hours(1)));
    Router::new()
        .route("/login", get(login))
        .route("/read", get(read))
        .route("/write", get(write))
        .layer(layer)
}

fn private_jar() -> Router {
    const NAME: &str = "bench";

    fn profile(jar: &PrivateCookieJar) -> ProfileData {
        jar.get(NAME)
            .and_then(|c| serde_json::from_str(c.value()).ok())
            .unwrap_or_default()
    }
    fn store(jar: PrivateCookieJar, profile: &ProfileData) -> PrivateCookieJar {
        let json = serde_json::to_string(profile).unwrap_or_default();
        jar.add(
            Cookie::build((NAME, json))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .max_age(cookie::time::Duration::hours(1)),
        )
    }
    async fn login(jar: PrivateCookieJar) -> (PrivateCookieJar, &'static str) {
        (store(jar, &ProfileData::sample()), "ok")
    }
    async fn read(jar: PrivateCookieJar) -> String {
        profile(&jar).line()
    }
    async fn write(jar: PrivateCookieJar) -> (PrivateCookieJar, String) {
        let mut p = profile(&jar);
        p.counter += 1;
        let answer = p.line();
        (store(jar, &p), answer)
    }
    Router::new()
        .route("/login", get(login))
        .route("/read", get(read))
        .route("/write", get(write))
        .with_state(Key::derive_from(SECRET.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use client::Jar;

    async fn get(app: &Router, path: &str, jar: &mut Jar) -> String {
        let answer = jar.get(app, path).await.unwrap();
        String::from_utf8(answer.body.to_vec()).unwrap()
    }

    /// Every contender without Redis answers the same lines and keeps its counter.
    #[tokio::test]
    async fn contenders_agree() {
        for contender in Contender::ALL.into_iter().filter(|c| !c.uses_redis()) {
            let app = contender.router(None).await.unwrap();
            let mut jar = Jar::default();
            assert_eq!(get(&app, "/login", &mut jar).await, "ok");
            let expected = |n: u64| {
                let mut d = ProfileData::sample();
                d.counter = n;
                d.line()
            };
            assert_eq!(
                get(&app, "/read", &mut jar).await,
                expected(0),
                "{contender:?}"
            );
            assert_eq!(
                get(&app, "/write", &mut jar).await,
                expected(1),
                "{contender:?}"
            );
            assert_eq!(
                get(&app, "/write", &mut jar).await,
                expected(2),
                "{contender:?}"
            );
            if !contender.is_baseline() {
                assert_eq!(
                    get(&app, "/read", &mut jar).await,
                    expected(2),
                    "{contender:?}"
                );
            }
        }
    }

    /// The floor sends and answers exactly as many cookie bytes as the cookie contender.
    #[tokio::test]
    async fn floor_carries_the_cookie_contenders_bytes() {
        async fn sizes(contender: Contender) -> Vec<(usize, Vec<usize>)> {
            let app = contender.router(None).await.unwrap();
            let mut jar = Jar::default();
            let mut sizes = Vec::new();
            for path in ["/login", "/read", "/write", "/read"] {
                let sent = jar.header().map_or(0, |h| h.len());
                let answer = jar.get(&app, path).await.unwrap();
                sizes.push((sent, answer.set_cookie.iter().map(|l| l.len()).collect()));
            }
            sizes
        }
        let cookie = sizes(Contender::Cookie).await;
        assert!(cookie[1].0 > 100, "the cookie contender sends its cookie");
        assert_eq!(sizes(Contender::Floor).await, cookie);
    }
}
