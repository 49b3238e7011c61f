//! Malformed and hostile traffic: a 64 KiB `Cookie` header, 5,000 cookies in one header and
//! across 5,000 headers, bytes that are not UTF-8, bad base64, and a sealed zstd frame that
//! would expand to 64 MiB. Each gives status 200 and a fresh session, and the work a request
//! does stays bounded: this test binary counts every allocation made on the thread that runs
//! the request, and the peak must stay under [`MAX_EXTRA`].
//!
//! In-process requests skip hyper's own header limits, so the last test sends the large
//! headers over real HTTP too, through `axum::serve` on loopback.
//!
//! zstd's own contexts live on the C heap, which this allocator does not see; what it does see
//! is every buffer the decoder hands back, and the decompressed body never passes 64 KiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write as _;

use axum::body::Body;
use axum::{Router, routing::get};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use http::{HeaderValue, Request, header};
use http_body_util::BodyExt;
use session_runtime::Session;
use session_test_support::clock::now;
use session_test_support::secrets::SECRET;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// The most a hostile request may allocate beyond what it brought, at its peak.
const MAX_EXTRA: usize = 1024 * 1024;

/// Counts the bytes allocated by the current thread while it is tracking.
struct CountingAllocator;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn record(delta: isize) {
    let _ = TRACKING.try_with(|tracking| {
        if tracking.get() {
            let _ = CURRENT.try_with(|current| {
                let now = current.get() + delta;
                current.set(now);
                let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
            });
        }
    });
}

// SAFETY: every call is passed to the system allocator unchanged; the bookkeeping only reads
// sizes and touches const-initialized thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        record(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[derive(Session)]
#[session(cookie_name = "mal", expire = 3600)]
struct Mal {
    counter: u32,
}

async fn peek(session: Session<Mal>) -> String {
    format!("counter={} new={}", session.counter, session.is_new())
}

async fn app() -> Router {
    let layer = Mal::layer().secret(SECRET).build().await.unwrap();
    Router::new().route("/peek", get(peek)).layer(layer)
}

/// What a request answered, and the most it allocated at once on top of what it was handed.
struct Measured {
    status: u16,
    body: String,
    removes: bool,
    peak: usize,
}

/// Sends `GET /peek` with these `Cookie` headers, counting allocations while the app works.
/// The request is built before counting starts: its own headers are not the app's doing.
/// `#[tokio::test]` runs on one thread, so everything the app does is counted.
async fn measured(app: &Router, cookies: &[&[u8]]) -> Measured {
    let mut request = Request::get("/peek");
    for cookie in cookies {
        request = request.header(header::COOKIE, HeaderValue::from_bytes(cookie).unwrap());
    }
    let request = request.body(Body::empty()).unwrap();
    let app = app.clone();
    CURRENT.with(|c| c.set(0));
    PEAK.with(|p| p.set(0));
    TRACKING.with(|t| t.set(true));
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let removes = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("mal=;"));
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    TRACKING.with(|t| t.set(false));
    let peak = PEAK.with(|p| p.get()).max(0) as usize;
    Measured {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        removes,
        peak,
    }
}

/// Checks a hostile request: 200, a fresh session, bounded allocation.
async fn hostile(app: &Router, cookies: &[&[u8]], what: &str) -> Measured {
    let reply = measured(app, cookies).await;
    assert_eq!(reply.status, 200, "{what}");
    assert_eq!(reply.body, "counter=0 new=true", "{what}");
    assert!(
        reply.peak < MAX_EXTRA,
        "{what}: the request allocated {} bytes at its peak",
        reply.peak
    );
    println!("{what}: peak {} bytes allocated", reply.peak);
    reply
}

/// A `modern` value sealed by hand, as the README's wire format describes, around `plaintext`
/// (flags, timestamps and body).
fn seal_modern(plaintext: &[u8]) -> String {
    let hkdf = Hkdf::<Sha256>::new(None, SECRET.as_bytes());
    let mut key = [0u8; 32];
    hkdf.expand(b"session-runtime/modern/v1/key", &mut key)
        .unwrap();
    let mut key_id = [0u8; 4];
    hkdf.expand(b"session-runtime/modern/v1/id", &mut key_id)
        .unwrap();
    let nonce = [7u8; 24];
    let mut aad = vec![0x01];
    aad.extend_from_slice(&key_id);
    aad.extend_from_slice(b"mal");
    let sealed = XChaCha20Poly1305::new(&key.into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .unwrap();
    let mut raw = vec![0x01];
    raw.extend_from_slice(&key_id);
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(raw)
}

fn payload(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut plaintext = vec![flags];
    plaintext.extend_from_slice(&now().to_be_bytes());
    plaintext.extend_from_slice(&(now() + 3600).to_be_bytes());
    plaintext.extend_from_slice(body);
    plaintext
}

const BOMB: usize = 64 * 1024 * 1024;

/// 64 MiB of zeros as one zstd frame; with `declared`, the frame header states the size.
fn zstd_bomb(declared: bool) -> Vec<u8> {
    let mut encoder = zstd::stream::Encoder::new(Vec::new(), 19).unwrap();
    encoder.include_contentsize(declared).unwrap();
    if declared {
        encoder.set_pledged_src_size(Some(BOMB as u64)).unwrap();
    }
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..BOMB / zeros.len() {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_sealed_decompression_bomb_gives_a_fresh_session() {
    let app = app().await;
    // The control: a valid hand-sealed value opens, compressed or not.
    let plain = seal_modern(&payload(0, br#"{"counter":5}"#));
    let reply = measured(&app, &[format!("mal={plain}").as_bytes()]).await;
    assert_eq!(reply.body, "counter=5 new=false");
    let small = zstd::bulk::compress(br#"{"counter":6}"#, 3).unwrap();
    let small = seal_modern(&payload(1, &small));
    let reply = measured(&app, &[format!("mal={small}").as_bytes()]).await;
    assert_eq!(reply.body, "counter=6 new=false");
    let ordinary = reply.peak;

    for declared in [true, false] {
        let frame = zstd_bomb(declared);
        assert!(
            frame.len() * 1000 < BOMB,
            "a {}-byte frame is not a thousandfold bomb",
            frame.len()
        );
        let value = seal_modern(&payload(1, &frame));
        assert!(value.len() < 4000, "{} bytes", value.len());
        let what = format!(
            "a {}-byte sealed zstd frame of 64 MiB (size declared: {declared})",
            value.len()
        );
        let reply = hostile(&app, &[format!("mal={value}").as_bytes()], &what).await;
        assert!(reply.removes, "{what}: the refused cookie is kept");
    }
    println!("an ordinary compressed cookie: peak {ordinary} bytes allocated");
}

#[tokio::test]
async fn a_64_kib_cookie_header_gives_a_fresh_session() {
    let app = app().await;
    // One cookie of ours, 64 KiB long.
    let long = format!("mal={}", "A".repeat(64 * 1024));
    let reply = hostile(&app, &[long.as_bytes()], "one 64 KiB cookie").await;
    assert!(reply.removes);
    // 64 KiB of other cookies, ours last.
    let mut header = String::new();
    let mut index = 0;
    while header.len() < 64 * 1024 {
        header.push_str(&format!("c{index}={}; ", "x".repeat(50)));
        index += 1;
    }
    header.push_str("mal=garbage");
    let reply = hostile(&app, &[header.as_bytes()], "a 64 KiB header of cookies").await;
    assert!(reply.removes);
}

#[tokio::test]
async fn five_thousand_cookies_give_a_fresh_session() {
    let app = app().await;
    let others: Vec<String> = (0..5000).map(|i| format!("c{i}=v{i}")).collect();
    let one_header = format!("{}; mal=garbage", others.join("; "));
    let reply = hostile(
        &app,
        &[one_header.as_bytes()],
        "5,000 cookies in one header",
    )
    .await;
    assert!(reply.removes);

    // 5,000 cookies of our name: at most a few are tried.
    let ours =
        vec!["mal=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"; 5000].join("; ");
    let reply = hostile(&app, &[ours.as_bytes()], "5,000 cookies of our name").await;
    assert!(reply.removes);

    // 5,000 headers.
    let headers: Vec<Vec<u8>> = (0..5000)
        .map(|i| format!("c{i}=v; mal=bad{i}").into_bytes())
        .collect();
    let headers: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
    let reply = hostile(&app, &headers, "5,000 cookie headers").await;
    assert!(reply.removes);
}

#[tokio::test]
async fn bytes_that_are_not_utf8_give_a_fresh_session() {
    let app = app().await;
    let cases: [&[u8]; 5] = [
        b"mal=\xff\xfe\xfd",
        b"mal=AAAA\x80AAAA",
        b"\xc3\x28=1; mal=\xe2\x82",
        b"mal=\xf0\x9f\x98",
        b"a=\xff; mal=\xc0\xaf",
    ];
    for cookie in cases {
        hostile(&app, &[cookie], &format!("{cookie:?}")).await;
    }
    // A header that is not UTF-8 is skipped; a valid one beside it is still read.
    let valid = seal_modern(&payload(0, br#"{"counter":9}"#));
    let reply = measured(&app, &[b"mal=\xff\xff", format!("mal={valid}").as_bytes()]).await;
    assert_eq!(reply.body, "counter=9 new=false");
}

#[tokio::test]
async fn bad_base64_gives_a_fresh_session() {
    let app = app().await;
    let valid = seal_modern(&payload(0, br#"{"counter":9}"#));
    let padded = format!("{valid}==");
    let standard = valid.replace('-', "+").replace('_', "/");
    let mut trailing_bits = valid.clone().into_bytes();
    // The last character of an unpadded value carries spare bits: set them.
    let last = trailing_bits.last_mut().unwrap();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let position = alphabet.iter().position(|c| c == last).unwrap();
    *last = alphabet[(position | 0b11) % 64];
    let trailing_bits = String::from_utf8(trailing_bits).unwrap();
    let mut cases = vec![
        "!!!!".to_owned(),
        "A".to_owned(),
        "AB=C".to_owned(),
        "====".to_owned(),
        "%41%41%41%41".to_owned(),
        "\"AAAA".to_owned(),
        "AA AA".to_owned(),
        "A\tA".to_owned(),
        padded,
        format!("{}.{}", &valid[..10], &valid[10..]),
    ];
    if standard != valid {
        cases.push(standard);
    }
    if trailing_bits != valid {
        cases.push(trailing_bits);
    }
    for value in &cases {
        let cookie = format!("mal={value}");
        let reply = hostile(&app, &[cookie.as_bytes()], &format!("{value:?}")).await;
        assert!(reply.removes, "{value:?}");
    }
}

/// Sends raw bytes as one HTTP/1.1 request and returns the status code, or `None` if the
/// server closed the connection without an answer.
async fn raw_http(addr: std::net::SocketAddr, request: &[u8]) -> Option<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before reading all of a request it refuses.
    let _ = stream.write_all(request).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let status = text.strip_prefix("HTTP/1.1 ")?.get(..3)?;
    status.parse().ok()
}

fn http_request(cookie_headers: &[Vec<u8>]) -> Vec<u8> {
    let mut request = b"GET /peek HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".to_vec();
    for cookie in cookie_headers {
        request.extend_from_slice(b"Cookie: ");
        request.extend_from_slice(cookie);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    request
}

#[tokio::test]
async fn real_http_applies_its_own_header_limits() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app().await).await });

    // A 64 KiB Cookie header is within hyper's limits: the app answers with a fresh session.
    let long = format!("mal={}", "A".repeat(64 * 1024)).into_bytes();
    assert_eq!(raw_http(addr, &http_request(&[long])).await, Some(200));
    // Bytes that are not UTF-8 pass hyper and are skipped by the session layer.
    let binary = b"mal=\xff\xfe; other=\x80".to_vec();
    assert_eq!(raw_http(addr, &http_request(&[binary])).await, Some(200));
    // 5,000 cookies in one header: 200.
    let many = (0..5000)
        .map(|i| format!("c{i}=v"))
        .collect::<Vec<_>>()
        .join("; ")
        .into_bytes();
    assert_eq!(raw_http(addr, &http_request(&[many])).await, Some(200));
    // 5,000 headers are past hyper's header count limit: refused before the app runs.
    let headers: Vec<Vec<u8>> = (0..5000).map(|i| format!("c{i}=v").into_bytes()).collect();
    let status = raw_http(addr, &http_request(&headers)).await;
    assert!(
        matches!(status, Some(431) | None),
        "5,000 headers: {status:?}"
    );
    // 1 MiB of header is past hyper's buffer limit: refused too.
    let huge = format!("mal={}", "A".repeat(1024 * 1024)).into_bytes();
    let status = raw_http(addr, &http_request(&[huge])).await;
    assert!(
        matches!(status, Some(431) | None),
        "1 MiB header: {status:?}"
    );
    // And the server still serves.
    assert_eq!(raw_http(addr, &http_request(&[])).await, Some(200));
    server.abort();
}
