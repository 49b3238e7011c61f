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
async fn main() -> std::process::ExitCode {
    examples::run(app(), "/cart").await
}

/// The app, or the configuration error that keeps it from starting.
async fn app() -> examples::Setup {
    let auth = Auth::layer()
        .from_env()?
        .or_ephemeral_secret()
        .build()
        .await?;
    let cart = Cart::layer().from_env_prefixed("CART")?.build().await?;
    let app = Router::new()
        .route("/login/{user}", get(login))
        .route("/cart/{item}", axum::routing::post(add))
        .route("/cart", get(show))
        .layer(auth)
        .layer(cart);
    Ok(app)
}
