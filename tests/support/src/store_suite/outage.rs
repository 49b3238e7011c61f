//! What a store does when its server is gone, frozen, or was never there: fail every call
//! quickly with an error that names the store, never hang, and work again by itself.

use std::time::{Duration, Instant};

use session_runtime::StoreKey;
use session_runtime::store::{SessionStore, StoreError, Updated};

use super::{FreezableFixture, ServerFixture, no_hang};
use crate::clock::now;
use crate::ports::free_port;
use crate::records::{new_key, record, update};

/// How long a store that reconnects in the background may take to serve again.
const RECOVERY: Duration = Duration::from_secs(10);

/// With the server killed, every call fails (a load within [`ServerFixture::FAILS_WITHIN`],
/// naming the store), round after round. Once the server is back on the same port, the same
/// store serves again (at once, or within [`RECOVERY`] and five failed calls for a store that
/// reconnects in the background), with the data the server kept, also after a second restart
/// while the pool holds idle connections.
pub async fn outage_fails_then_recovers_by_itself<F: ServerFixture>() {
    let mut fixture = F::start().await;
    let store = fixture.store().clone();
    let key = new_key();
    let far = now() + 600;
    store
        .create(&key, &record(&[("a", "1")], far))
        .await
        .unwrap();
    // Several idle connections in the pool, all of which the outage breaks.
    let mut loads = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (store, key) = (store.clone(), key.clone());
        loads.spawn(async move { store.load(&key, now()).await.map(|r| r.is_some()) });
    }
    while let Some(found) = loads.join_next().await {
        assert!(found.unwrap().unwrap());
    }

    fixture.stop();
    for round in 0..3 {
        every_call_fails::<F>(&store, &key, far, round).await;
    }

    fixture.restart();
    let found = recovered::<F, _>(|| store.load(&key, now())).await;
    if F::KEEPS_DATA {
        let found = found.expect("the server kept the record");
        assert_eq!(found.field("a"), Some(&b"1"[..]));
    } else {
        assert!(found.is_none(), "the server kept nothing");
        store
            .create(&key, &record(&[("a", "1")], far))
            .await
            .unwrap();
    }
    // Anything the store prepared on the server (a script) is prepared again by itself.
    assert_eq!(
        store
            .update(&key, &update(&[("b", "2")], far), now())
            .await
            .unwrap(),
        Updated::Applied
    );
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("b"), Some(&b"2"[..]));

    // A restart while the pool holds idle connections: the store serves again as before.
    fixture.restart();
    let found = recovered::<F, _>(|| store.load(&key, now())).await;
    assert_eq!(found.is_some(), F::KEEPS_DATA);
}

/// One round of calls against a dead server: each fails without hanging, the load within
/// `FAILS_WITHIN` and naming the store, the other three within three times that together.
async fn every_call_fails<F: ServerFixture>(
    store: &F::Store,
    key: &StoreKey,
    far: u64,
    round: u32,
) {
    let started = Instant::now();
    let err = no_hang("load", store.load(key, now())).await.unwrap_err();
    let took = started.elapsed();
    eprintln!("round {round}: failed load took {took:?}: {err}");
    assert!(took < F::FAILS_WITHIN, "load took {took:?}");
    assert!(err.to_string().contains(F::NAME), "{err}");

    let started = Instant::now();
    assert!(
        no_hang(
            "update",
            store.update(key, &update(&[("a", "2")], far), now())
        )
        .await
        .is_err()
    );
    assert!(
        no_hang("create", store.create(&new_key(), &record(&[], far)))
            .await
            .is_err()
    );
    assert!(no_hang("delete", store.delete(key)).await.is_err());
    let took = started.elapsed();
    assert!(
        took < F::FAILS_WITHIN * 3,
        "round {round}: three calls took {took:?}"
    );
}

/// The first success of `op` after the server came back. A store that reconnects at once must
/// succeed on the first call; one that reconnects in the background within [`RECOVERY`] and
/// at most five failed calls.
async fn recovered<F, T>(mut op: impl AsyncFnMut() -> Result<T, StoreError>) -> T
where
    F: ServerFixture,
{
    if F::RECONNECTS_AT_ONCE {
        return op().await.expect("the first call after the restart works");
    }
    let deadline = Instant::now() + RECOVERY;
    let mut failures = 0;
    loop {
        match op().await {
            Ok(value) => {
                eprintln!("recovered after the restart with {failures} failed calls");
                assert!(failures <= 5, "{failures} failures after the restart");
                return value;
            }
            Err(_) if Instant::now() < deadline => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the store did not recover within {RECOVERY:?}: {e}"),
        }
    }
}

/// A server that keeps its connections but answers nothing: calls time out within
/// `FAILS_WITHIN` and say so, round after round, and once it runs again the same store serves
/// the record it held.
pub async fn a_frozen_server_gets_a_timeout_not_a_hang<F: FreezableFixture>() {
    let fixture = F::start_for_freezing().await;
    let store = fixture.store();
    let key = new_key();
    let far = now() + 600;
    store
        .create(&key, &record(&[("a", "1")], far))
        .await
        .unwrap();

    fixture.pause();
    for _ in 0..2 {
        let started = Instant::now();
        let err = no_hang("load", store.load(&key, now())).await.unwrap_err();
        let took = started.elapsed();
        eprintln!("frozen server: failed load took {took:?}: {err}");
        assert!(took < F::FAILS_WITHIN, "load took {took:?}");
        assert!(err.to_string().contains("timed out"), "{err}");
        assert!(
            no_hang(
                "update",
                store.update(&key, &update(&[("a", "2")], far), now())
            )
            .await
            .is_err()
        );
    }
    fixture.resume();

    // The store serves again; unless a timed-out write could still land, the data is as it was.
    let deadline = Instant::now() + RECOVERY;
    let loaded = loop {
        match store.load(&key, now()).await {
            Ok(found) => break found.expect("the record survived the freeze"),
            Err(_) if !F::RECONNECTS_AT_ONCE && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the store did not recover: {e}"),
        }
    };
    let a = loaded.field("a");
    if F::TIMED_OUT_WRITES_MAY_APPLY {
        assert!(a == Some(&b"1"[..]) || a == Some(&b"2"[..]), "{a:?}");
    } else {
        assert_eq!(a, Some(&b"1"[..]));
    }
}

/// Connecting with a URL the store cannot use, or to a port nobody listens on, fails (within
/// `CONNECT_FAILS_WITHIN`, never hanging) with advice: the environment variable to set and the
/// address that was tried.
pub async fn connect_errors_say_what_to_do<F: ServerFixture>() {
    let err = F::connect(F::BAD_URL)
        .await
        .err()
        .expect("a bad URL is refused");
    assert!(err.to_string().contains(F::URL_VARIABLE), "{err}");

    let port = free_port();
    let started = Instant::now();
    let err = no_hang("connect", F::connect_failing_fast(&F::url_on(port)))
        .await
        .err()
        .expect("nothing listens there");
    let took = started.elapsed();
    assert!(took < F::CONNECT_FAILS_WITHIN, "connect took {took:?}");
    let message = err.to_string();
    assert!(message.contains(F::URL_VARIABLE), "{message}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
}
