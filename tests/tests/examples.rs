//! The examples as a newcomer runs them: a real process on loopback and a real HTTP
//! client with a cookie jar.

use session_test_support::examples::example_binary;
use session_test_support::ports::free_port;
use session_test_support::redis_server;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(example: &str, envs: &[(&str, &str)]) -> (Server, String) {
    start_with_args(example, &[], envs).await
}

async fn start_with_args(example: &str, args: &[&str], envs: &[(&str, &str)]) -> (Server, String) {
    let port = free_port();
    let mut command = Command::new(example_binary(example));
    command
        .args(args)
        .env("PORT", port.to_string())
        .env_remove("SESSION_SECRET")
        .env_remove("SESSION_STORE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    let server = Server(command.spawn().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the counter example did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, base)
}

async fn counts_in(envs: &[(&str, &str)]) -> Vec<String> {
    let (_server, base) = start("counter", envs).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let first = client.get(format!("{base}/counter")).send().await.unwrap();
    let set_cookie = first
        .headers()
        .get("set-cookie")
        .expect("a Set-Cookie")
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} missing: {set_cookie}"
        );
    }
    assert!(set_cookie.starts_with("myapp="));
    assert!(
        !set_cookie.contains("counter"),
        "the JSON shows: {set_cookie}"
    );
    let mut bodies = vec![first.text().await.unwrap()];
    for _ in 0..2 {
        let reply = client.get(format!("{base}/counter")).send().await.unwrap();
        bodies.push(reply.text().await.unwrap());
    }
    bodies
}

const EXPECTED: [&str; 3] = [
    "This is your 1 visit",
    "This is your 2 visit",
    "This is your 3 visit",
];

#[tokio::test]
async fn the_counter_counts_with_an_ephemeral_key() {
    assert_eq!(counts_in(&[]).await, EXPECTED);
}

#[tokio::test]
async fn the_counter_honours_run_time_overrides() {
    let secret = ("SESSION_SECRET", "an example secret that is long enough!!");
    assert_eq!(
        counts_in(&[secret, ("SESSION_COMPRESSION_LEVEL", "3")]).await,
        EXPECTED
    );
    assert_eq!(
        counts_in(&[secret, ("SESSION_ENCRYPTION_MODE", "none")]).await,
        EXPECTED
    );
    assert_eq!(
        counts_in(&[secret, ("SESSION_ENCRYPTION_MODE", "legacy")]).await,
        EXPECTED
    );
    assert_eq!(counts_in(&[("SESSION_STORE", "memory")]).await, EXPECTED);
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().to_str().unwrap();
    assert_eq!(
        counts_in(&[("SESSION_STORE", "files"), ("SESSION_DIR", dir_path)]).await,
        EXPECTED
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "one session file"
    );
    let redis = redis_server::RedisServer::start();
    assert_eq!(
        counts_in(&[("SESSION_STORE", "redis"), ("REDIS_URL", &redis.url())]).await,
        EXPECTED
    );
}

#[tokio::test]
async fn the_counter_serves_prometheus_metrics_with_the_flag() {
    let memory = [("SESSION_STORE", "memory")];
    let (_server, base) = start_with_args("counter", &["--metrics"], &memory).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    for _ in 0..2 {
        client.get(format!("{base}/counter")).send().await.unwrap();
    }
    let stranger = reqwest::Client::new();
    let refused = stranger
        .get(format!("{base}/counter"))
        .header("cookie", "myapp=../../x");
    refused.send().await.unwrap();
    let scrape = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert!(
        scrape.headers().get("set-cookie").is_none(),
        "a scrape reads no session"
    );
    let text = scrape.text().await.unwrap();
    for line in [
        "# TYPE session_loads_total counter",
        r#"session_loads_total{session="Visit"} 3"#,
        r#"session_fresh_total{session="Visit"} 2"#,
        r#"session_refused_total{session="Visit",reason="malformed_id"} 1"#,
        "# TYPE session_store_duration_seconds summary",
        r#"session_store_duration_seconds_count{session="Visit",store="memory",op="create"} 2"#,
        r#"session_store_duration_seconds_count{session="Visit",store="memory",op="load"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }

    let (_server, base) = start("counter", &[]).await;
    let unflagged = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(unflagged.status(), reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_bad_override_stops_startup_with_a_clear_message() {
    let output = Command::new(example_binary("counter"))
        .env("PORT", free_port().to_string())
        .env("SESSION_STORE", "reddis")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SESSION_STORE") && stderr.contains("redis"),
        "{stderr}"
    );
    // One readable sentence, not a Debug dump of the error.
    let line = stderr.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("error: session `Visit`: SESSION_STORE: "),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Invalid {") && !stderr.contains("type_name"),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[tokio::test]
async fn the_login_example_protects_its_private_page() {
    let (_server, base) = start("login", &[]).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let private = format!("{base}/private");
    assert_eq!(client.get(&private).send().await.unwrap().status(), 401);
    let wrong = [("user", "ada"), ("password", "guess")];
    let reply = client
        .post(format!("{base}/login"))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    let right = [("user", "ada"), ("password", "secret")];
    let reply = client
        .post(format!("{base}/login"))
        .form(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 303);
    let page = client.get(&private).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Only ada can read this.")
    );
    client.get(format!("{base}/logout")).send().await.unwrap();
    assert_eq!(client.get(&private).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn the_cart_example_keeps_two_session_types_apart() {
    let (_server, base) = start("cart", &[]).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    client
        .get(format!("{base}/login/ada"))
        .send()
        .await
        .unwrap();
    for item in ["apple", "pear"] {
        client
            .post(format!("{base}/cart/{item}"))
            .send()
            .await
            .unwrap();
    }
    let reply = client.get(format!("{base}/cart")).send().await.unwrap();
    let body = reply.text().await.unwrap();
    assert_eq!(body, r#"{"items":["apple","pear"],"user":"ada"}"#);
}
