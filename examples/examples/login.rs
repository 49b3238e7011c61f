//! Log in, a page only a logged-in user sees, log out.
//!
//! ```text
//! cargo run --example login      # then open http://127.0.0.1:3000/
//! ```
//!
//! Logging in calls `regenerate()` (a new session id: no session fixation), logging out calls
//! `destroy()` (the record is deleted and the cookie expired). The session lives in memory by
//! default; `SESSION_STORE=files SESSION_DIR=/tmp/sessions` or `SESSION_STORE=redis` move it.

use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Router, http::StatusCode, routing::get};
use serde::Deserialize;
use session_runtime::Session;

#[derive(Session)]
#[session(
    cookie_name = "auth",
    store = "memory",
    expire = 1800,
    max_lifetime = 28800
)]
struct Auth {
    user: Option<String>,
}

#[derive(Deserialize)]
struct Credentials {
    user: String,
    password: String,
}

async fn home(auth: Session<Auth>) -> Html<String> {
    Html(match &auth.user {
        Some(user) => format!(
            "<p>Logged in as <b id=\"user\">{}</b>.</p>\
             <p><a href=\"/private\">Private page</a> · <a id=\"logout\" href=\"/logout\">Log out</a></p>",
            escape(user)
        ),
        None => "<p>Not logged in.</p>\
                 <form method=\"post\" action=\"/login\">\
                 <input id=\"name\" name=\"user\" placeholder=\"user\">\
                 <input id=\"password\" name=\"password\" type=\"password\" placeholder=\"password\">\
                 <button id=\"submit\" type=\"submit\">Log in</button></form>"
            .to_owned(),
    })
}

async fn login(mut auth: Session<Auth>, Form(credentials): Form<Credentials>) -> Response {
    // A real app checks a password hash here; the example accepts the password "secret".
    if credentials.user.is_empty() || credentials.password != "secret" {
        return (
            StatusCode::UNAUTHORIZED,
            Html("<p>Wrong user or password. <a href=\"/\">Back</a></p>"),
        )
            .into_response();
    }
    auth.user = Some(credentials.user);
    auth.regenerate();
    Redirect::to("/private").into_response()
}

async fn private(auth: Session<Auth>) -> Response {
    match &auth.user {
        Some(user) => Html(format!(
            "<p id=\"secret\">Only {} can read this.</p><p><a id=\"logout\" href=\"/logout\">Log out</a></p>",
            escape(user)
        ))
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, Html("<p>Log in first. <a href=\"/\">Home</a></p>")).into_response(),
    }
}

async fn logout(auth: Session<Auth>) -> Redirect {
    auth.destroy();
    Redirect::to("/")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    examples::run(app(), "/").await
}

/// The app, or the configuration error that keeps it from starting.
async fn app() -> examples::Setup {
    // A secret is needed only if SESSION_STORE=cookie moves the session into the cookie.
    let auth = Auth::layer()
        .from_env()?
        .or_ephemeral_secret()
        .build()
        .await?;
    let app = Router::new()
        .route("/", get(home))
        .route("/login", axum::routing::post(login))
        .route("/private", get(private))
        .route("/logout", get(logout))
        .layer(auth);
    Ok(app)
}
