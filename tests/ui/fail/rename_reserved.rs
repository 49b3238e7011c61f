use session_runtime::Session;

#[derive(Session)]
struct Visit {
    #[session(rename = "$id")]
    user: String,
}

fn main() {}
