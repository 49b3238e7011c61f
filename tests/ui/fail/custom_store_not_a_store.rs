use session_runtime::Session;

#[derive(Default)]
pub struct NotAStore;

#[derive(Session)]
#[session(store = "crate::NotAStore")]
struct Visit {
    counter: u32,
}

fn main() {}
