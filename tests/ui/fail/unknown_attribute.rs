use session_runtime::Session;

#[derive(Session)]
#[session(expires = 10)]
struct Visit {
    counter: u32,
}

fn main() {}
