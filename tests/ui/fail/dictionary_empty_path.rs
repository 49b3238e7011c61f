use session_runtime::Session;

#[derive(Session)]
#[session(compression_level = 3, compression_dictionary = "")]
struct Visit {
    counter: u32,
}

fn main() {}
