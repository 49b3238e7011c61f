use session_runtime::Session;

#[derive(Session)]
#[session(compression_dictionary = "session.dict")]
struct Visit {
    counter: u32,
}

fn main() {}
