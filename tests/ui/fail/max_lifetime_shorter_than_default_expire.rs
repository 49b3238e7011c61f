use session_runtime::Session;

#[derive(Session)]
#[session(max_lifetime = 60)]
struct Visit {
    counter: u32,
}

fn main() {}
