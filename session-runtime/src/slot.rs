//! The request slot: where a request's session waits between the layer, the extractor and the
//! save.
//!
//! The layer puts an empty slot into the request's extensions before calling the handler. The
//! first `Session<T>` extracted checks the session out of the slot, loading it then (so a
//! handler that never asks costs nothing); dropping the `Session<T>` gives it back. When the
//! response is ready the layer takes what the slot holds and saves it.

use std::sync::{Arc, Mutex, MutexGuard};

use http::HeaderMap;

use crate::engine::{Engine, Loaded};
use crate::error::SessionRejection;
use crate::schema::SessionSchema;

/// What a request's slot holds.
pub(crate) enum SlotState<T> {
    /// Nobody asked for the session: nothing was decrypted or loaded.
    Untouched,
    /// A `Session<T>` holds it.
    CheckedOut,
    /// The handler is done with it: ready to save.
    Returned(Loaded<T>),
}

/// The per-request link between the layer and the extractor (a request extension).
pub(crate) struct SessionSlot<T> {
    pub(crate) engine: Arc<Engine>,
    state: Arc<Mutex<SlotState<T>>>,
}

impl<T> Clone for SessionSlot<T> {
    fn clone(&self) -> Self {
        SessionSlot {
            engine: Arc::clone(&self.engine),
            state: Arc::clone(&self.state),
        }
    }
}

impl<T> SessionSlot<T> {
    /// An empty slot for one request.
    pub(crate) fn new(engine: Arc<Engine>) -> Self {
        SessionSlot {
            engine,
            state: Arc::new(Mutex::new(SlotState::Untouched)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotState<T>> {
        // Nothing panics while the lock is held; a poisoned slot still holds a whole state.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn replace(&self, state: SlotState<T>) -> SlotState<T> {
        std::mem::replace(&mut *self.lock(), state)
    }

    /// The layer, once the response is ready: what the slot holds, leaving it empty.
    pub(crate) fn take(&self) -> SlotState<T> {
        self.replace(SlotState::Untouched)
    }

    /// The extractor, when its `Session<T>` is dropped: the session is ready to save.
    pub(crate) fn give_back(&self, loaded: Loaded<T>) {
        self.replace(SlotState::Returned(loaded));
    }
}

impl<T: SessionSchema> SessionSlot<T> {
    /// The extractor: the session, loaded on first use from the request's `headers`; a second
    /// `Session<T>` alive at the same time is refused.
    pub(crate) async fn check_out(
        &self,
        headers: &HeaderMap,
    ) -> Result<Loaded<T>, SessionRejection> {
        match self.replace(SlotState::CheckedOut) {
            SlotState::Returned(loaded) => Ok(loaded),
            SlotState::CheckedOut => Err(SessionRejection::AlreadyExtracted {
                type_name: T::attributes().type_name,
            }),
            SlotState::Untouched => {
                // Should loading fail or be cancelled, the slot must not stay checked out.
                let restore = RestoreOnDrop(self);
                let loaded = self.engine.load::<T>(headers).await?;
                std::mem::forget(restore);
                Ok(loaded)
            }
        }
    }
}

/// Puts an untouched slot back unless forgotten.
struct RestoreOnDrop<'a, T>(&'a SessionSlot<T>);

impl<T> Drop for RestoreOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.replace(SlotState::Untouched);
    }
}
