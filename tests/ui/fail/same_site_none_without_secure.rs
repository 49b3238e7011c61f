use session_runtime::Session;

#[derive(Session)]
#[session(same_site = "none")]
struct Visit {
    counter: u32,
}

fn main() {}
