use session_runtime::Session;

#[derive(Session)]
#[session(store = "files", filename_template = "../sess_%s")]
struct Visit {
    counter: u32,
}

fn main() {}
