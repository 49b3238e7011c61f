use session_runtime::Session;

#[derive(Session)]
#[session(max_cookie_size = 8192)]
struct Visit {
    counter: u32,
}

fn main() {}
