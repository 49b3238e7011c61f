use session_runtime::Session;

#[derive(Session)]
#[session(expires = 10, compression_level = 40)]
struct Visit {
    #[session(rename = "")]
    user: String,
}

fn main() {}
