//! The app each instance serves: a session type per store and the handlers the clients call.
//!
//! Every handler but logout answers the session's contents after the request as JSON, so the
//! checker sees exactly what the session held.

use axum::extract::Query;
use axum::routing::get;
use axum::{Json, Router};

use super::checker::Contents;

#[derive(serde::Deserialize)]
struct Login {
    user: String,
    token: String,
}

#[derive(serde::Deserialize)]
struct Change {
    note: String,
}

/// Defines a session type with the given cookie and store, its handlers, `$router`, which
/// builds the app with the store at a URL given by `$url_setter`, and `$cookie_const`, the
/// cookie's name for the clients.
macro_rules! account_app {
    ($module:ident, $router:ident, $cookie_const:ident, $cookie:tt, $store:tt, $url_setter:ident) => {
        mod $module {
            use super::*;
            use session_runtime::Session;

            pub const COOKIE: &str = $cookie;

            #[derive(Session)]
            #[session(cookie_name = $cookie, store = $store, expire = 3600)]
            pub struct Account {
                user: Option<String>,
                token: Option<String>,
                note: Option<String>,
            }

            fn contents(account: &Account) -> Json<Contents> {
                Json(Contents {
                    user: account.user.clone(),
                    token: account.token.clone(),
                    note: account.note.clone(),
                })
            }

            async fn login(mut s: Session<Account>, Query(q): Query<Login>) -> Json<Contents> {
                s.user = Some(q.user);
                s.token = Some(q.token);
                s.regenerate();
                contents(&s)
            }

            async fn change(mut s: Session<Account>, Query(q): Query<Change>) -> Json<Contents> {
                s.note = Some(q.note);
                contents(&s)
            }

            async fn read(s: Session<Account>) -> Json<Contents> {
                contents(&s)
            }

            async fn regenerate(mut s: Session<Account>) -> Json<Contents> {
                s.regenerate();
                contents(&s)
            }

            async fn logout(s: Session<Account>) -> &'static str {
                s.destroy();
                "out"
            }

            pub async fn router(url: String) -> Router {
                let layer = Account::layer()
                    .$url_setter(url)
                    .build()
                    .await
                    .expect("build the session layer");
                Router::new()
                    .route("/login", get(login))
                    .route("/change", get(change))
                    .route("/read", get(read))
                    .route("/regenerate", get(regenerate))
                    .route("/logout", get(logout))
                    .layer(layer)
            }
        }

        pub use $module::{COOKIE as $cookie_const, router as $router};
    };
}

account_app!(
    on_redis,
    redis_router,
    REDIS_COOKIE,
    "acct_redis",
    "redis",
    redis_url
);
account_app!(
    on_postgres,
    postgres_router,
    POSTGRES_COOKIE,
    "acct_pg",
    "postgres",
    database_url
);

/// Serves `app` on a free loopback port; returns its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port for the app");
    let addr = listener.local_addr().expect("the app's address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve the app");
    });
    format!("http://{addr}")
}
