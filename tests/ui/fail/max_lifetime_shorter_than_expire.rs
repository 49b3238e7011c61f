use session_runtime::Session;

#[derive(Session)]
#[session(expire = 600, max_lifetime = 60)]
struct Visit {
    counter: u32,
}

fn main() {}
