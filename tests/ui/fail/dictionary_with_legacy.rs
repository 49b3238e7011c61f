use session_runtime::Session;

#[derive(Session)]
#[session(encryption_mode = "legacy", compression_dictionary = "session.dict")]
struct Visit {
    counter: u32,
}

fn main() {}
