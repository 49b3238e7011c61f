//! `store = "path::To::Type"` names a user type implementing `SessionStore + Default`.

use session_runtime::store::{BoxFuture, MemoryStore, Record, SessionStore, StoreError, Update, Updated};
use session_runtime::{Session, SessionSchema, StoreChoice, StoreKey};

mod stores {
    use super::*;

    /// A store that delegates to the memory store (a real one would talk to a database).
    #[derive(Default)]
    pub struct AuditedStore(MemoryStore);

    impl SessionStore for AuditedStore {
        fn load<'a>(&'a self, key: &'a StoreKey, now: u64) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
            self.0.load(key, now)
        }
        fn create<'a>(&'a self, key: &'a StoreKey, record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>> {
            self.0.create(key, record)
        }
        fn update<'a>(&'a self, key: &'a StoreKey, update: &'a Update, now: u64) -> BoxFuture<'a, Result<Updated, StoreError>> {
            self.0.update(key, update, now)
        }
        fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
            self.0.delete(key)
        }
    }
}

#[derive(Session)]
#[session(store = "crate::stores::AuditedStore", prefix = "cart:")]
struct Cart {
    items: Vec<String>,
}

// A store from another crate, named by its full path.
#[derive(Session)]
#[session(store = "session_runtime::store::MemoryStore")]
struct Basket {
    items: Vec<String>,
}

fn main() {
    match Cart::attributes().store {
        StoreChoice::Custom { name, .. } => assert!(name.ends_with("AuditedStore"), "{name}"),
        other => panic!("expected a custom store, got {other:?}"),
    }
    assert_eq!(Cart::attributes().prefix, Some("cart:"));
    assert!(matches!(Basket::attributes().store, StoreChoice::Custom { .. }));
}
