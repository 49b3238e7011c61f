use session_runtime::Session;

#[derive(Session)]
#[session(store = "files", filename_template = "sessions")]
struct Visit {
    counter: u32,
}

fn main() {}
