use session_runtime::Session;

// On a server-side store the record carries the times: `legacy` does not limit them.
#[derive(Session)]
#[session(encryption_mode = "legacy", store = "memory", expire = 600, max_lifetime = 7200)]
struct Visit {
    counter: u32,
}

fn main() {}
