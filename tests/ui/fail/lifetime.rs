use session_runtime::Session;

#[derive(Session)]
struct Visit<'a> {
    name: &'a str,
}

fn main() {}
