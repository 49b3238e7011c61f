use session_runtime::Session;

#[derive(Session)]
struct Visit {
    #[session(expire = 60)]
    user: String,
}

fn main() {}
