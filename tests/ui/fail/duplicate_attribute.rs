use session_runtime::Session;

#[derive(Session)]
#[session(expire = 60)]
#[session(expire = 120)]
struct Visit {
    counter: u32,
}

fn main() {}
