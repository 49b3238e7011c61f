use session_runtime::Session;

#[derive(Session)]
#[session(compression_level = 23)]
struct Visit {
    counter: u32,
}

fn main() {}
