use session_runtime::Session;

#[derive(Session)]
#[session(encryption_mode = "moden")]
struct Visit {
    counter: u32,
}

fn main() {}
