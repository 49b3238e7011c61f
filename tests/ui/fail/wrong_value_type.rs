use session_runtime::Session;

#[derive(Session)]
#[session(expire = "10")]
struct Visit {
    counter: u32,
}

fn main() {}
