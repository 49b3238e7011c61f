use session_runtime::Session;

#[derive(Session)]
struct Visit;

fn main() {}
