use session_runtime::Session;

#[derive(Session)]
#[session(store = "crate::MissingStore")]
struct Visit {
    counter: u32,
}

fn main() {}
