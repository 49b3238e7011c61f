use session_runtime::Session;

#[derive(Session)]
#[session(store = "redis", prefix = "my app:")]
struct Visit {
    counter: u32,
}

fn main() {}
