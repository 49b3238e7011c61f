use session_runtime::Session;

#[derive(Session)]
#[session(same_site = "strct")]
struct Visit {
    counter: u32,
}

fn main() {}
