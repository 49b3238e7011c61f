use session_runtime::Session;

#[derive(Session)]
enum Visit {
    Counter(u32),
}

fn main() {}
