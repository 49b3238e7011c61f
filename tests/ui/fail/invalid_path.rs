use session_runtime::Session;

#[derive(Session)]
#[session(path = "app")]
struct Visit {
    counter: u32,
}

fn main() {}
