//! The counter: `GET /counter` answers "This is your N visit", N counting from 1.
//!
//! ```text
//! cargo run --example counter
//! curl -c jar -b jar http://127.0.0.1:3000/counter   # This is your 1 visit
//! curl -c jar -b jar http://127.0.0.1:3000/counter   # This is your 2 visit
//! ```
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
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let mut builder = Visit::layer().from_env()?;
    if std::env::var_os("SESSION_SECRET").is_none() {
        eprintln!(
            "warning: SESSION_SECRET is not set; using an ephemeral key, so sessions will not \
             survive a restart (set SESSION_SECRET to 32+ random bytes, e.g. `openssl rand -base64 48`)"
        );
        builder = builder.ephemeral_secret();
    }
    let app = Router::new()
        .route("/counter", get(count))
        .layer(builder.build().await?);

    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT=`{p}` is not a port number"))?,
        Err(_) => 3000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("listening on http://{}/counter", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
