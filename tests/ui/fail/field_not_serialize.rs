use session_runtime::Session;

// Can be read back, but not written: the field type is missing `Serialize`.
#[derive(Default, serde::Deserialize)]
struct Theme;

#[derive(Session)]
struct Visit {
    counter: u32,
    theme: Theme,
}

fn main() {}
