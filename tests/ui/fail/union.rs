use session_runtime::Session;

#[derive(Session)]
union Visit {
    counter: u32,
}

fn main() {}
