//! A deterministic synthetic corpus of session bodies, for the dictionary tests and benches.
//!
//! Each body is what the derive writes for one shop's session type, a JSON object of every
//! stored field in declaration order:
//!
//! ```text
//! csrf     a CSRF token (32 random base64url characters)
//! prefs    {locale, currency, theme, seen (unix seconds)}
//! account  null for anonymous visitors, else {user_id, device (a UUID), access_token (a
//!          JWT-like token: fixed header, claims with user id, times, scope and a random sid,
//!          43 random signature characters), login_at, flags {beta, newsletter, onboarded},
//!          return_to}
//! cart     null, or {id (a UUID), items: [{product_id, name, variant, price, qty}]}
//! recent   ids of recently viewed products
//! ```
//!
//! Products come from a catalog of 20,000 whose names and prices follow from their ids.
//! Anonymous visitors with nothing in the cart make about 160 bytes; logged-in shoppers with
//! full carts reach 2 KiB. The random parts (tokens, UUIDs) are as incompressible as real ones.
//!
//! Same seed, same corpus, on every machine: a splitmix64 generator, no outside randomness.

use std::fmt::Write as _;

/// splitmix64: small, fast, and good enough for test data.
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the bias is negligible for these sizes).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True `percent` times out of a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty), each as likely.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn token(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| BASE64URL[rng.below(64) as usize] as char)
        .collect()
}

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        8 + (b >> 62),
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// base64url without padding of `bytes` (for the JWT-like token's payload).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(BASE64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

const LOCALES: &[&str] = &[
    "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "pt-BR", "it-IT", "nl-NL", "pl-PL", "ja-JP",
    "sv-SE", "en-CA",
];
const CURRENCIES: &[&str] = &["EUR", "USD", "GBP", "SEK", "PLN", "JPY"];
const THEMES: &[&str] = &["light", "dark", "system"];
const ADJECTIVES: &[&str] = &[
    "Merino",
    "Organic",
    "Classic",
    "Slim",
    "Vintage",
    "Waterproof",
    "Recycled",
    "Linen",
    "Everyday",
    "Premium",
    "Compact",
    "Wireless",
    "Ceramic",
    "Bamboo",
    "Insulated",
    "Heritage",
];
const NOUNS: &[&str] = &[
    "Wool Socks",
    "Cotton T-Shirt",
    "Denim Jacket",
    "Running Shoes",
    "Backpack",
    "Coffee Mug",
    "Desk Lamp",
    "Water Bottle",
    "Headphones",
    "Notebook",
    "Chino Trousers",
    "Rain Coat",
    "Yoga Mat",
    "Travel Pillow",
    "Phone Case",
    "Scarf",
    "Sunglasses",
    "Tote Bag",
];
const VARIANTS: &[&str] = &[
    "size:XS",
    "size:S",
    "size:M",
    "size:L",
    "size:XL",
    "color:black",
    "color:navy",
    "color:olive",
    "color:sand",
    "pack:2",
    "pack:6",
    "one-size",
];
const PATHS: &[&str] = &[
    "/checkout",
    "/account/orders",
    "/cart",
    "/products/new-arrivals",
    "/account/settings",
    "/wishlist",
];

/// One product of a catalog of 20,000: its name and price follow from its id, as in a shop.
fn product(id: u64) -> (String, String, u64) {
    let mut r = Rng::new(id.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let name = format!("{} {}", r.pick(ADJECTIVES), r.pick(NOUNS));
    let cents = 199 + r.below(24_800);
    (format!("prd_{id:06}"), name, cents)
}

/// The session body of one visitor, at most about `target` bytes long (longer only when even
/// its fixed fields are).
pub fn session(rng: &mut Rng, target: usize) -> Vec<u8> {
    let logged_in = target > 600 || (target > 350 && rng.chance(50));
    let now = 1_714_000_000 + rng.below(20_000_000);
    let user_id = 10_000 + rng.below(9_990_000);
    let mut head = String::new();
    write!(
        head,
        r#"{{"csrf":"{}","prefs":{{"locale":"{}","currency":"{}","theme":"{}","seen":{now}}},"#,
        token(rng, 32),
        rng.pick(LOCALES),
        rng.pick(CURRENCIES),
        rng.pick(THEMES),
    )
    .unwrap();
    if logged_in {
        let claims = format!(
            r#"{{"sub":"{user_id}","iat":{},"exp":{},"scope":"{}","sid":"{}"}}"#,
            now - rng.below(3600),
            now + 3600,
            if rng.chance(20) {
                "read write admin"
            } else {
                "read write"
            },
            token(rng, 16)
        );
        write!(
            head,
            r#""account":{{"user_id":{user_id},"device":"{}","access_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}","login_at":{},"#,
            uuid(rng),
            base64url(claims.as_bytes()),
            token(rng, 43),
            now - rng.below(86_400 * 7),
        )
        .unwrap();
        write!(
            head,
            r#""flags":{{"beta":{},"newsletter":{},"onboarded":{}}},"return_to":{}}},"#,
            rng.chance(10),
            rng.chance(40),
            rng.chance(80),
            if rng.chance(30) {
                format!(r#""{}""#, rng.pick(PATHS))
            } else {
                "null".to_owned()
            }
        )
        .unwrap();
    } else {
        head.push_str(r#""account":null,"#);
    }
    // Cart lines and recently viewed products fill the rest, roughly two to one.
    let mut cart: Vec<String> = Vec::new();
    let mut recent: Vec<String> = Vec::new();
    let cart_id = uuid(rng);
    // With `"cart":null,"recent":[]}`.
    let mut used = head.len() + 24;
    loop {
        let (is_recent, item) = if recent.len() * 2 < cart.len() || rng.chance(25) {
            (true, format!(r#""prd_{:06}""#, rng.below(20_000)))
        } else {
            let (id, name, cents) = product(rng.below(20_000));
            let line = format!(
                r#"{{"product_id":"{id}","name":"{name}","variant":"{}","price":{}.{:02},"qty":{}}}"#,
                rng.pick(VARIANTS),
                cents / 100,
                cents % 100,
                1 + rng.below(4)
            );
            (false, line)
        };
        // `"cart":null` becomes `"cart":{"id":"<uuid>","items":[..]}` with the first line.
        let overhead = if !is_recent && cart.is_empty() {
            cart_id.len() + 20
        } else {
            0
        };
        if used + item.len() + 1 + overhead > target {
            break;
        }
        used += item.len() + 1 + overhead;
        if is_recent {
            recent.push(item);
        } else {
            cart.push(item);
        }
    }
    let mut out = head;
    if cart.is_empty() {
        out.push_str(r#""cart":null,"#);
    } else {
        write!(
            out,
            r#""cart":{{"id":"{cart_id}","items":[{}]}},"#,
            cart.join(",")
        )
        .unwrap();
    }
    write!(out, r#""recent":[{}]}}"#, recent.join(",")).unwrap();
    out.into_bytes()
}

/// `count` sessions whose target sizes are spread evenly on a log scale over
/// `min..=max` bytes, from `seed`.
pub fn corpus(seed: u64, count: usize, min: usize, max: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let (lo, hi) = ((min as f64).ln(), (max as f64).ln());
    (0..count)
        .map(|_| {
            let x = rng.below(1 << 20) as f64 / f64::from(1 << 20);
            let target = (lo + (hi - lo) * x).exp() as usize;
            session(&mut rng, target)
        })
        .collect()
}

/// The size buckets reported in BENCHMARKS.md, as `(label, min, max)` in bytes (inclusive).
pub const BUCKETS: &[(&str, usize, usize)] = &[
    ("150-299 B", 150, 299),
    ("300-599 B", 300, 599),
    ("600-1199 B", 600, 1199),
    ("1200-2048 B", 1200, 2048),
];
