use session_runtime::Session;

#[derive(Session)]
#[session(store = "reds")]
struct Visit {
    counter: u32,
}

fn main() {}
