use session_runtime::Session;

#[derive(Session)]
struct Visit {
    #[session(rename = "us\ner")]
    user: String,
}

fn main() {}
