use session_runtime::Session;

#[derive(Session)]
struct Visit {
    #[session(rename = "user")]
    name: String,
    user: String,
}

fn main() {}
