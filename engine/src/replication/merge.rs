//! The last-writer-wins rule replication applies (docs/GLOBAL.md, "Conflict rule"): a
//! change carries a [`Version`] — a hybrid logical clock reading of the region that
//! accepted it, and that region's name. Of two versions of one item, the one with the
//! greater clock wins; equal clocks are broken by the greater region name, so every
//! replica picks the same winner whatever order the changes arrive in. Pure, so the
//! properties (commutative, idempotent, order-independent) are proptested.

/// When and where one change was accepted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// A hybrid logical clock: wall-clock milliseconds in the high 48 bits, a counter
    /// in the low 16 (see [`Hlc`]).
    pub clock: u64,
    /// The region that accepted the change (the tie-break).
    pub region: String,
}

/// Whether a change at `incoming` replaces the item stored at `stored` (None: no
/// version stored, e.g. the item never existed there): strictly newer only, so
/// re-applying a change is a no-op.
pub fn replaces(incoming: &Version, stored: Option<&Version>) -> bool {
    stored.is_none_or(|s| incoming > s)
}

/// The winner of two versions (the merge of two replicas' states of one item).
pub fn merge<'a>(a: &'a Version, b: &'a Version) -> &'a Version {
    if replaces(b, Some(a)) {
        b
    } else {
        a
    }
}

/// A hybrid logical clock: never goes backwards, moves past every clock it has seen.
#[derive(Debug, Default)]
pub struct Hlc {
    last: u64,
}

impl Hlc {
    /// The clock for a change accepted now (`wall_ms`: the wall clock).
    pub fn tick(&mut self, wall_ms: u64) -> u64 {
        let wall = wall_ms.saturating_mul(1 << 16);
        self.last = if wall > self.last {
            wall
        } else {
            self.last.saturating_add(1)
        };
        self.last
    }

    /// Takes in a clock seen in a replicated change, so later local changes order after it.
    pub fn observe(&mut self, seen: u64) {
        self.last = self.last.max(seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn version() -> impl Strategy<Value = Version> {
        (
            0u64..6,
            prop::sample::select(vec!["eu-west-1", "us-east-1", "us-west-2"]),
        )
            .prop_map(|(clock, region)| Version {
                clock,
                region: region.to_string(),
            })
    }

    /// The version a replica holds after applying `changes` in order.
    fn apply_all(changes: &[Version]) -> Option<Version> {
        let mut stored: Option<Version> = None;
        for c in changes {
            if replaces(c, stored.as_ref()) {
                stored = Some(c.clone());
            }
        }
        stored
    }

    proptest! {
        #[test]
        fn merge_is_commutative_and_idempotent(a in version(), b in version()) {
            prop_assert_eq!(merge(&a, &b), merge(&b, &a));
            prop_assert_eq!(merge(&a, &a), &a);
            prop_assert!(!replaces(&a, Some(&a)));
        }

        #[test]
        fn every_arrival_order_gives_the_same_winner(
            changes in prop::collection::vec(version(), 1..8),
            seed in any::<u64>(),
        ) {
            let mut shuffled = changes.clone();
            // A deterministic shuffle from the seed.
            let mut s = seed;
            for i in (1..shuffled.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (s >> 33) as usize % (i + 1));
            }
            // Deliveries may repeat (at-least-once).
            let mut repeated = shuffled.clone();
            repeated.extend(changes.iter().cloned());
            let want = changes.iter().max().cloned();
            prop_assert_eq!(apply_all(&changes), want.clone());
            prop_assert_eq!(apply_all(&shuffled), want.clone());
            prop_assert_eq!(apply_all(&repeated), want);
        }

        #[test]
        fn the_clock_never_goes_back(walls in prop::collection::vec(0u64..1000, 1..20), seen in any::<u32>()) {
            let mut hlc = Hlc::default();
            let mut last = 0;
            for (i, w) in walls.iter().enumerate() {
                if i == 3 {
                    hlc.observe(u64::from(seen));
                    last = last.max(u64::from(seen));
                }
                let t = hlc.tick(*w);
                prop_assert!(t > last || (t == 0 && last == 0 && i == 0));
                last = t;
            }
        }
    }
}
