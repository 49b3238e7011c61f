use session_runtime::Session;

#[derive(Session)]
struct Visit {
    #[session(skip, rename = "s")]
    scratch: Vec<u8>,
}

fn main() {}
