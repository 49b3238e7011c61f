//! The fault plan: a fixed sequence of faults, each on a randomly chosen instance (a partition
//! on each in turn) for a random while, with calm gaps between them.

use std::collections::BTreeMap;
use std::time::Duration;

use super::client::Rng;
use super::proxy::Faults;

/// The kinds of fault, in the order the plan injects them.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Every chunk to and from the server delayed.
    Latency,
    /// Every live connection reset.
    Reset,
    /// Live connections reset and new ones refused for a while.
    Refuse,
    /// All traffic of one instance held, then its connections reset.
    Partition,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Latency => "latency",
            Fault::Reset => "reset",
            Fault::Refuse => "refuse",
            Fault::Partition => "partition",
        }
    }
}

const PLAN: [Fault; 10] = [
    Fault::Latency,
    Fault::Reset,
    Fault::Partition,
    Fault::Refuse,
    Fault::Latency,
    Fault::Reset,
    Fault::Refuse,
    Fault::Partition,
    Fault::Reset,
    Fault::Latency,
];

/// Runs the plan against the two instances' proxies; returns how many faults of each kind were
/// injected.
pub async fn run(faults: &[Faults; 2], rng: &mut Rng) -> BTreeMap<&'static str, u32> {
    let mut injected = BTreeMap::new();
    let mut partitions = 0;
    // Let every client start a session before the first fault.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for fault in PLAN {
        let target = match fault {
            Fault::Partition => {
                partitions += 1;
                &faults[partitions % 2]
            }
            _ => &faults[rng.below(2) as usize],
        };
        inject(fault, target, rng).await;
        *injected.entry(fault.name()).or_insert(0) += 1;
        tokio::time::sleep(rng.millis(200, 500)).await;
    }
    injected
}

async fn inject(fault: Fault, target: &Faults, rng: &mut Rng) {
    match fault {
        Fault::Latency => {
            target.set_latency(rng.millis(5, 80));
            tokio::time::sleep(rng.millis(1_000, 2_000)).await;
            target.set_latency(Duration::ZERO);
        }
        Fault::Reset => target.reset_all(),
        Fault::Refuse => {
            target.set_refusing(true);
            target.reset_all();
            tokio::time::sleep(rng.millis(500, 1_500)).await;
            target.set_refusing(false);
        }
        Fault::Partition => {
            target.partition();
            tokio::time::sleep(rng.millis(2_000, 3_000)).await;
            target.heal_partition();
        }
    }
}
