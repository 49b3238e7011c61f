//! What every example does the same way: logging, the `PORT` variable, serving on loopback.

use axum::Router;

/// Logs to stderr (`RUST_LOG` filters, default `info`), binds `127.0.0.1:$PORT` (default 3000),
/// prints the address of `path`, and serves `app` until the process is stopped.
pub async fn serve(app: Router, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT=`{p}` is not a port number"))?,
        Err(_) => 3000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("listening on http://{}{path}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
