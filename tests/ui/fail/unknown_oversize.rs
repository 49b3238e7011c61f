use session_runtime::Session;

#[derive(Session)]
#[session(oversize = "chunks")]
struct Visit {
    counter: u32,
}

fn main() {}
