use session_runtime::Session;

#[derive(Session)]
struct Visit {
    #[session(default = "1 + 1")]
    counter: u32,
}

fn main() {}
