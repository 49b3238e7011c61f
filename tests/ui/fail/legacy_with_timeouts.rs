use session_runtime::Session;

// Legacy values carry no time: an `expire` or `max_lifetime` written beside them is refused,
// on the cookie store the attribute leaves in place.
#[derive(Session)]
#[session(encryption_mode = "legacy", expire = 3, max_lifetime = 4)]
struct Visit {
    counter: u32,
}

fn main() {}
