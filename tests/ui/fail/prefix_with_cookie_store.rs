use session_runtime::Session;

#[derive(Session)]
#[session(store = "cookie", prefix = "app:")]
struct Visit {
    counter: u32,
}

fn main() {}
