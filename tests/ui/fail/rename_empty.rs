use session_runtime::Session;

#[derive(Session)]
struct Visit {
    #[session(rename = "")]
    user: String,
}

fn main() {}
