use session_runtime::Session;

#[derive(Session)]
#[session(skip)]
struct Visit {
    counter: u32,
}

fn main() {}
