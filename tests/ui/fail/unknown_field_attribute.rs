use session_runtime::Session;

#[derive(Session)]
struct Visit {
    #[session(renam = "u")]
    user: String,
}

fn main() {}
