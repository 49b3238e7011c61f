use session_runtime::Session;

#[derive(Session)]
struct Visit(u32);

fn main() {}
