use session_runtime::Session;

#[derive(Session)]
#[session(expire = 0)]
struct Visit {
    counter: u32,
}

fn main() {}
