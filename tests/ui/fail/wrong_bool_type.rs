use session_runtime::Session;

#[derive(Session)]
#[session(secure = "yes")]
struct Visit {
    counter: u32,
}

fn main() {}
