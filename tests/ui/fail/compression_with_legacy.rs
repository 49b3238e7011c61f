use session_runtime::Session;

#[derive(Session)]
#[session(encryption_mode = "legacy", compression_level = 3)]
struct Visit {
    counter: u32,
}

fn main() {}
