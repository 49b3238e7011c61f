//! The counter: `GET /counter` answers "This is your N visit", N counting from 1.
//!
//! ```text
//! cargo run --example counter
//! curl -c jar -b jar http://127.0.0.1:3000/counter   # This is your 1 visit
//! curl -c jar -b jar http://127.0.0.1:3000/counter   # This is your 2 visit
//! ```
//!
//! With `--metrics` (`cargo run --example counter -- --metrics`), `GET /metrics` answers the
//! session metrics in Prometheus's text format.
//!
//! Environment: `PORT` (default 3000), `SESSION_SECRET` (without it the example makes an
//! ephemeral key and says so), and the library's run-time overrides such as `SESSION_STORE`,
//! `SESSION_ENCRYPTION_MODE` and `SESSION_COMPRESSION_LEVEL`.

use axum::{Router, routing::get};
use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "myapp", expire = 3600)]
struct Visit {
    counter: u32,
}

async fn count(mut visit: Session<Visit>) -> String {
    visit.counter += 1;
    format!("This is your {} visit", visit.counter)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    examples::run(app(), "/counter").await
}

/// The app, or the configuration error that keeps it from starting.
async fn app() -> examples::Setup {
    // First, so that the layer describes its metrics to the recorder.
    let metrics = examples::metrics_route()?;
    // Without SESSION_SECRET: an ephemeral key, with a warning (sessions die with the process).
    let sessions = Visit::layer()
        .from_env()?
        .or_ephemeral_secret()
        .build()
        .await?;
    let app = Router::new().route("/counter", get(count)).layer(sessions);
    Ok(app.merge(metrics))
}
