use session_runtime::Session;

// A browser compares the Domain attribute with the punycode form of the host.
#[derive(Session)]
#[session(domain = "exämple.com")]
struct Visit {
    counter: u32,
}

fn main() {}
