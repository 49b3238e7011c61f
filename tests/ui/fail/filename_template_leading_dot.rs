use session_runtime::Session;

// A hidden session file is easy to miss and to sweep by mistake.
#[derive(Session)]
#[session(store = "files", filename_template = ".sess_%s")]
struct Visit {
    counter: u32,
}

fn main() {}
