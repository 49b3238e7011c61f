use session_runtime::Session;

#[derive(Session)]
struct Visit<T> {
    value: T,
}

fn main() {}
