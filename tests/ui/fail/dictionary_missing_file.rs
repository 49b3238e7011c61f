use session_runtime::Session;

#[derive(Session)]
#[session(compression_level = 3, compression_dictionary = "no/such/session.dict")]
struct Visit {
    counter: u32,
}

fn main() {}
