//! A per-key linearizability checker (Wing & Gong's search with Lowe's memoisation), for
//! histories of one register: GetItem, PutItem, conditional UpdateItem and DeleteItem.
//!
//! A history is a list of operations, each with the time it was invoked and the time its
//! answer arrived (`None`: no answer — a lost reply, which may or may not have taken
//! effect, at any time after its invocation). The search builds a total order: at each
//! step it may take any operation not taken yet that was invoked before every untaken
//! completed operation returned (the "minimal" ones), if the register's state allows its
//! result; it backtracks when none does. A (set of operations taken, state) pair seen
//! once is never explored again, which makes histories with few concurrent operations
//! per key linear in their length. The history is linearizable when every completed
//! operation is taken; operations without an answer may be left out.
//!
//! Values are `i64`; the register starts absent (`None`).

use std::collections::HashSet;

/// What one operation did, as its client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A read that returned this value (`None`: no item).
    Get(Option<i64>),
    /// An unconditional write.
    Put(i64),
    /// `SET v = new` if `v = expect`; `applied` false is a ConditionalCheckFailed.
    Cas {
        expect: i64,
        new: i64,
        applied: bool,
    },
    /// An unconditional delete.
    Delete,
}

/// One operation of a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub kind: Kind,
    /// Invocation time (any monotonic unit).
    pub call: u64,
    /// Answer time; `None` when no answer came (the outcome is unknown).
    pub ret: Option<u64>,
}

/// Why a history is not linearizable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The most operations any order could take before it got stuck.
    pub linearized: usize,
    /// The completed operations none of which could come next at that point.
    pub stuck_at: Vec<Op>,
}

type State = Option<i64>;

/// The state after `op`, if `op`'s result is possible in `state`.
fn step(op: &Op, state: State) -> Option<State> {
    match op.kind {
        Kind::Get(seen) => (seen == state).then_some(state),
        Kind::Put(v) => Some(Some(v)),
        Kind::Delete => Some(None),
        // Without an answer, a conditional write is tried as applied; "not applied" is
        // the same as leaving it out.
        Kind::Cas {
            expect,
            new,
            applied,
        } if applied || op.ret.is_none() => (state == Some(expect)).then_some(Some(new)),
        Kind::Cas { expect, .. } => (state != Some(expect)).then_some(state),
    }
}

/// Checks one key's history. Reads without an answer say nothing and are dropped.
pub fn check(history: &[Op]) -> Result<(), Violation> {
    let mut ops: Vec<Op> = history
        .iter()
        .copied()
        .filter(|o| o.ret.is_some() || !matches!(o.kind, Kind::Get(_)))
        .collect();
    ops.sort_by_key(|o| o.call);
    let n = ops.len();
    let must = ops.iter().filter(|o| o.ret.is_some()).count();
    let words = n.div_ceil(64);
    let mut seen: HashSet<(Vec<u64>, State)> = HashSet::new();
    // Depth-first: each frame is (taken set, state, taken count, next candidate to try).
    let mut stack: Vec<(Vec<u64>, State, usize, usize)> = vec![(vec![0; words], None, 0, 0)];
    let mut best = Violation {
        linearized: 0,
        stuck_at: Vec::new(),
    };
    while let Some(frame) = stack.last_mut() {
        let (taken, state, done_completed, from) = (frame.0.clone(), frame.1, frame.2, frame.3);
        if done_completed == must {
            return Ok(());
        }
        let is_taken = |i: usize| taken[i / 64] & (1 << (i % 64)) != 0;
        // The earliest answer among untaken completed operations bounds the candidates.
        let mut bound = u64::MAX;
        for (i, o) in ops.iter().enumerate() {
            if o.call > bound {
                break;
            }
            if !is_taken(i) {
                if let Some(r) = o.ret {
                    bound = bound.min(r);
                }
            }
        }
        let mut pushed = false;
        for (i, o) in ops.iter().enumerate().skip(from) {
            if o.call > bound {
                break;
            }
            if is_taken(i) {
                continue;
            }
            if let Some(next) = step(o, state) {
                let mut t = taken.clone();
                t[i / 64] |= 1 << (i % 64);
                if seen.insert((t.clone(), next)) {
                    frame.3 = i + 1;
                    let count = done_completed + usize::from(o.ret.is_some());
                    stack.push((t, next, count, 0));
                    pushed = true;
                    break;
                }
            }
        }
        if !pushed {
            let depth = taken.iter().map(|w| w.count_ones() as usize).sum();
            if depth > best.linearized || best.stuck_at.is_empty() {
                best.linearized = depth;
                best.stuck_at = (0..n)
                    .filter(|&i| !is_taken(i) && ops[i].call <= bound && ops[i].ret.is_some())
                    .map(|i| ops[i])
                    .collect();
            }
            stack.pop();
        }
    }
    Err(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cas(expect: i64, new: i64, applied: bool, call: u64, ret: u64) -> Op {
        op(
            Kind::Cas {
                expect,
                new,
                applied,
            },
            call,
            ret,
        )
    }

    fn op(kind: Kind, call: u64, ret: u64) -> Op {
        Op {
            kind,
            call,
            ret: Some(ret),
        }
    }

    #[test]
    fn overlapping_operations_may_take_effect_in_either_order() {
        // put 1 [0,10] overlaps get -> 1 [5,6] and get -> None [1,2]: None first, then 1.
        let h = [
            op(Kind::Put(1), 0, 10),
            op(Kind::Get(None), 1, 2),
            op(Kind::Get(Some(1)), 5, 6),
        ];
        assert_eq!(check(&h), Ok(()));
        let h = [
            op(Kind::Put(1), 0, 3),
            cas(1, 2, true, 4, 8),
            cas(1, 3, false, 5, 9),
            op(Kind::Get(Some(2)), 10, 11),
            op(Kind::Delete, 12, 13),
            op(Kind::Get(None), 14, 15),
        ];
        assert_eq!(check(&h), Ok(()));
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_a_violation() {
        let h = [
            op(Kind::Put(1), 0, 1),
            op(Kind::Put(2), 2, 3),
            op(Kind::Get(Some(1)), 4, 5),
        ];
        let v = check(&h).unwrap_err();
        assert_eq!(v.linearized, 2);
        assert_eq!(v.stuck_at, vec![h[2]]);
        // Two successful CAS from the same value cannot both apply.
        let h = [
            op(Kind::Put(1), 0, 1),
            cas(1, 2, true, 2, 5),
            cas(1, 3, true, 2, 5),
        ];
        assert!(check(&h).is_err());
    }

    #[test]
    fn a_write_without_an_answer_may_or_may_not_have_happened() {
        let lost = Op {
            kind: Kind::Put(7),
            call: 0,
            ret: None,
        };
        assert_eq!(check(&[lost, op(Kind::Get(None), 5, 6)]), Ok(()));
        assert_eq!(check(&[lost, op(Kind::Get(Some(7)), 5, 6)]), Ok(()));
        assert!(check(&[lost, op(Kind::Get(Some(8)), 5, 6)]).is_err());
    }

    proptest::proptest! {
        /// Any history produced by a real register, each operation taking effect at a
        /// point inside its interval, is linearizable; a read of a value nobody wrote is not.
        #[test]
        fn histories_of_a_real_register_pass_and_a_forged_read_fails(
            spec in proptest::collection::vec((0u64..1000, 1u64..200, 0u8..4, 0u64..1000, 0i64..3), 1..60)
        ) {
            let mut timed: Vec<(u64, Op)> = spec.iter().enumerate().map(|(i, &(call, len, k, at, v))| {
                let kind = match k {
                    0 => Kind::Get(None),
                    1 => Kind::Put(i as i64 + 10),
                    2 => Kind::Cas { expect: v + 10, new: i as i64 + 10, applied: false },
                    _ => Kind::Delete,
                };
                (call + at * len / 1000, Op { kind, call, ret: Some(call + len) })
            }).collect();
            timed.sort_by_key(|t| t.0);
            let mut state = None;
            for (_, o) in timed.iter_mut() {
                match &mut o.kind {
                    Kind::Get(seen) => *seen = state,
                    Kind::Put(v) => state = Some(*v),
                    Kind::Delete => state = None,
                    Kind::Cas { expect, new, applied } => {
                        *applied = state == Some(*expect);
                        if *applied { state = Some(*new); }
                    }
                }
            }
            let mut h: Vec<Op> = timed.into_iter().map(|t| t.1).collect();
            proptest::prop_assert_eq!(check(&h), Ok(()));
            if let Some(g) = h.iter_mut().find(|o| matches!(o.kind, Kind::Get(_))) {
                g.kind = Kind::Get(Some(-1));
                proptest::prop_assert!(check(&h).is_err());
            }
        }
    }
}
