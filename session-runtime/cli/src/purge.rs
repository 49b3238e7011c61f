//! `sessions purge`: deletes the expired sessions of a files or PostgreSQL store.
//!
//! Redis and memcached expire records themselves, and the memory store lives in the app's
//! process, so only these two stores have something to purge from outside.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use session_runtime::store::FilesStore;
#[cfg(feature = "postgres")]
use session_runtime::store::{DEFAULT_TABLE, PostgresOptions, PostgresStore};
use session_settings::defaults;

use crate::exit::Failure;

/// A store `purge` can clean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PurgeStore {
    /// One file per session in a directory.
    Files,
    /// A PostgreSQL table.
    #[cfg(feature = "postgres")]
    Postgres,
}

/// Arguments of `sessions purge`.
#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// The store to clean.
    #[arg(long, value_enum)]
    pub store: PurgeStore,
    /// The files store's directory (the app's SESSION_DIR).
    #[arg(long, value_name = "DIR", required_if_eq("store", "files"))]
    pub dir: Option<PathBuf>,
    /// The files store's file names; only files matching it are looked at.
    #[arg(long, value_name = "TEMPLATE", default_value = defaults::FILENAME_TEMPLATE)]
    pub filename_template: String,
    /// The PostgreSQL database URL.
    #[cfg(feature = "postgres")]
    #[arg(
        long,
        value_name = "URL",
        env = "DATABASE_URL",
        hide_env_values = true,
        required_if_eq("store", "postgres")
    )]
    pub database_url: Option<String>,
    /// The PostgreSQL table.
    #[cfg(feature = "postgres")]
    #[arg(long, value_name = "TABLE", default_value = DEFAULT_TABLE)]
    pub table: String,
}

/// Runs `sessions purge`: how many sessions were deleted.
pub fn run(args: &PurgeArgs) -> Result<String, Failure> {
    let deleted = match args.store {
        PurgeStore::Files => purge_files(args)?,
        #[cfg(feature = "postgres")]
        PurgeStore::Postgres => purge_postgres(args)?,
    };
    Ok(deleted.to_string())
}

fn purge_files(args: &PurgeArgs) -> Result<u64, Failure> {
    let dir = args
        .dir
        .as_ref()
        .ok_or_else(|| Failure::usage("--store files needs --dir"))?;
    // The store would create a missing directory; a purge of a mistyped path must not.
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "{}: not a directory",
            dir.display()
        )));
    }
    let store =
        FilesStore::new(dir, &args.filename_template).map_err(|e| Failure::usage(e.to_string()))?;
    let deleted = store
        .purge_expired()
        .map_err(|e| Failure::failed(e.to_string()))?;
    Ok(deleted as u64)
}

#[cfg(feature = "postgres")]
fn purge_postgres(args: &PurgeArgs) -> Result<u64, Failure> {
    let url = args
        .database_url
        .as_deref()
        .ok_or_else(|| Failure::usage("--store postgres needs --database-url or DATABASE_URL"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        let options = PostgresOptions::default().table(args.table.clone());
        let store = PostgresStore::connect_with(url, options)
            .await
            .map_err(|e| Failure::failed(e.to_string()))?;
        store
            .purge_expired()
            .await
            .map_err(|e| Failure::failed(e.to_string()))
    })
}
