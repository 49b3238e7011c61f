use session_runtime::Session;

// Store keys stay visible ASCII, so they print the same in every store and log.
#[derive(Session)]
#[session(store = "redis", prefix = "préfixe:")]
struct Visit {
    counter: u32,
}

fn main() {}
