use session_runtime::Session;

#[derive(Session)]
#[session(
    store = "redis",
    compression_level = 3,
    compression_dictionary = "session.dict"
)]
struct Visit {
    counter: u32,
}

fn main() {}
