use session_runtime::Session;

#[derive(Session)]
#[session(store = "redis", oversize = "chunk")]
struct Visit {
    counter: u32,
}

fn main() {}
