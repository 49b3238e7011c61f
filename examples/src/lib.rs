//! What every example does the same way: logging, the `PORT` variable, serving on loopback,
//! metrics at `/metrics` with `--metrics`, and a startup error printed as the sentence it is.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusBuilder;

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

/// With `--metrics` on the command line: installs a Prometheus recorder and answers `/metrics`
/// with every metric in Prometheus's text format; without it, no route.
///
/// Call it before building the session layers, so that they describe their metrics to it.
/// Merge the result into the app after its layers, so that scraping reads no session.
pub fn metrics_route() -> Result<Router, Box<dyn std::error::Error>> {
    if !std::env::args().skip(1).any(|arg| arg == "--metrics") {
        return Ok(Router::new());
    }
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    // Histogram samples wait in the recorder until upkeep folds them in; scrapes do it too, but
    // an unscraped process would keep every sample.
    let upkeep = prometheus.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(Router::new().route("/metrics", get(move || async move { prometheus.render() })))
}
