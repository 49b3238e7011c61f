//! Two session types in one app: `Auth` in a sealed cookie, `Cart` on the server.
//!
//! ```text
//! cargo run --example cart
//! curl -c jar -b jar http://127.0.0.1:3000/login/ada
//! curl -c jar -b jar -X POST http://127.0.0.1:3000/cart/apple
//! curl -c jar -b jar http://127.0.0.1:3000/cart
//! ```
//!
//! Each type has its own cookie name, key prefix and store, and its own layer; the layers stack.
//! `CART_STORE=redis` (or any `CART_*` override) moves the cart without touching `Auth`.

use axum::extract::Path;
use axum::{Json, Router, routing::get};
use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "auth", expire = 3600)]
struct Auth {
    user: Option<String>,
}

#[derive(Session)]
#[session(
    cookie_name = "cart",
    store = "memory",
    prefix = "cart:",
    expire = 86400
)]
struct Cart {
    items: Vec<String>,
}

async fn login(Path(user): Path<String>, mut auth: Session<Auth>) -> String {
    auth.user = Some(user);
    auth.regenerate();
    "logged in".into()
}

async fn add(Path(item): Path<String>, mut cart: Session<Cart>) -> String {
    cart.items.push(item);
    format!("{} items", cart.items.len())
}

async fn show(auth: Session<Auth>, cart: Session<Cart>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "user": auth.user, "items": cart.items }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut auth = Auth::layer().from_env()?;
    if std::env::var_os("SESSION_SECRET").is_none() {
        eprintln!("warning: SESSION_SECRET is not set; using an ephemeral key");
        auth = auth.ephemeral_secret();
    }
    let app = Router::new()
        .route("/login/{user}", get(login))
        .route("/cart/{item}", axum::routing::post(add))
        .route("/cart", get(show))
        .layer(auth.build().await?)
        .layer(Cart::layer().from_env_prefixed("CART")?.build().await?);
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT=`{p}` is not a port number"))?,
        Err(_) => 3000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("listening on http://{}/cart", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
