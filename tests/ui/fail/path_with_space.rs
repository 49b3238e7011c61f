use session_runtime::Session;

// A space would end the cookie's Path attribute in some parsers: refused here, as by the runtime.
#[derive(Session)]
#[session(path = "/my app")]
struct Visit {
    counter: u32,
}

fn main() {}
