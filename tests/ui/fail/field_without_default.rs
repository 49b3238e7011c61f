use session_runtime::Session;

#[derive(serde::Serialize, serde::Deserialize)]
struct NoDefault(u32);

#[derive(Session)]
struct Visit {
    counter: u32,
    thing: NoDefault,
}

fn main() {}
