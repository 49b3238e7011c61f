//! What every example does the same way: logging, the `PORT` variable, serving on loopback, and
//! a startup error printed as the sentence it is.

use std::future::Future;
use std::process::ExitCode;

use axum::Router;

/// What an example's setup returns: the app, or why it cannot start.
pub type Setup = Result<Router, Box<dyn std::error::Error>>;

/// Logs to stderr (`RUST_LOG` filters, default `info`), builds the app with `setup`, binds
/// `127.0.0.1:$PORT` (default 3000), prints the address of `path`, and serves until the process
/// is stopped.
///
/// A failure prints one line, `error: ` and the error's message (which names the setting or
/// environment variable and says what to do), never a `Debug` dump, and exits with status 1.
pub async fn run(setup: impl Future<Output = Setup>, path: &str) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let served = match setup.await {
        Ok(app) => serve(app, path).await,
        Err(e) => Err(e),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(app: Router, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT=`{p}` is not a port number from 1 to 65535"))?,
        Err(_) => 3000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port} ({e}); set PORT to a free port"))?;
    eprintln!("listening on http://{}{path}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
