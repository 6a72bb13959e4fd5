//! A transaction isolation checker for list-append histories, after Elle (Kingsbury &
//! Alvaro, "Elle: Inferring Isolation Anomalies from Experimental Observations"),
//! simplified: every transaction appends unique values to lists and/or reads whole lists.
//! Because each value is appended once, a read list names its writers, and the longest
//! read of a key gives that key's version order (every other read must be a prefix of it).
//! From the order it builds the dependency graph — ww (a version's writer before the next
//! version's writer), wr (the writer of the last value read before the reader), rw (a
//! reader before the writer of the version after the one it read: an anti-dependency) —
//! and reports each cycle by the strongest class it needs: G0 (ww only), G1c (ww + wr),
//! G2 (with rw). It also reports G1a (a committed read of an aborted append), G1b (a read
//! whose last value is not its writer's final append to that key), values nobody wrote,
//! and reads that are not prefixes of one order. Transactions with an unknown outcome
//! count as committed when any of their appends is read, and are ignored otherwise.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// One micro-operation of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mop {
    /// Appends `value` (unique in the history) to the list at `key`.
    Append { key: String, value: u64 },
    /// Read the list at `key` (empty: no item or no list).
    Read { key: String, list: Vec<u64> },
}

/// How a transaction ended, as its client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Committed,
    /// Refused (TransactionCanceledException): none of it happened.
    Aborted,
    /// No answer (a 5xx, a lost connection): it may or may not have happened.
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Txn {
    pub ops: Vec<Mop>,
    pub outcome: Outcome,
}

/// One anomaly found, with the transactions (indexes into the history) it involves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    /// A cycle of ww edges only.
    G0(Vec<usize>),
    /// A cycle of ww and wr edges (and not G0).
    G1c(Vec<usize>),
    /// A cycle that needs an rw edge.
    G2(Vec<usize>),
    /// Transaction `reader` read `value`, appended by the aborted `writer`.
    G1a {
        reader: usize,
        writer: usize,
        value: u64,
    },
    /// Transaction `reader` read `value` as the last of `key`, an intermediate append of `writer`.
    G1b {
        reader: usize,
        writer: usize,
        key: String,
        value: u64,
    },
    /// A read value no transaction appended.
    Garbage {
        reader: usize,
        key: String,
        value: u64,
    },
    /// Two reads of `key` that are not prefixes of one order.
    IncompatibleOrder {
        key: String,
        a: Vec<u64>,
        b: Vec<u64>,
    },
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Edge {
    Ww,
    Wr,
    Rw,
}

/// Checks a history; an empty answer means no anomaly was found.
pub fn check(history: &[Txn]) -> Vec<Anomaly> {
    let mut out = Vec::new();
    // Who appended each value, and each writer's last append per key.
    let mut writer: HashMap<u64, usize> = HashMap::new();
    let mut last_append: HashMap<(usize, &str), u64> = HashMap::new();
    for (i, t) in history.iter().enumerate() {
        for m in &t.ops {
            if let Mop::Append { key, value } = m {
                writer.insert(*value, i);
                last_append.insert((i, key.as_str()), *value);
            }
        }
    }
    let observed: HashSet<u64> = reads(history)
        .flat_map(|(_, _, l)| l.iter().copied())
        .collect();
    let counts = |i: usize| match history[i].outcome {
        Outcome::Committed => true,
        Outcome::Aborted => false,
        Outcome::Unknown => history[i]
            .ops
            .iter()
            .any(|m| matches!(m, Mop::Append { value, .. } if observed.contains(value))),
    };
    // Version orders: the longest read per key; every read a prefix of it.
    let mut order: BTreeMap<&str, &[u64]> = BTreeMap::new();
    for (_, key, list) in reads(history) {
        let longest = order.entry(key).or_insert(list);
        if list.len() > longest.len() {
            *longest = list;
        }
    }
    for (reader, key, list) in reads(history) {
        let full = order.get(key).copied().unwrap_or_default();
        if !full.starts_with(list) {
            out.push(Anomaly::IncompatibleOrder {
                key: key.to_string(),
                a: list.to_vec(),
                b: full.to_vec(),
            });
        }
        if !counts(reader) {
            continue;
        }
        for v in list {
            match writer.get(v) {
                None => out.push(Anomaly::Garbage {
                    reader,
                    key: key.into(),
                    value: *v,
                }),
                Some(&w) if history[w].outcome == Outcome::Aborted => out.push(Anomaly::G1a {
                    reader,
                    writer: w,
                    value: *v,
                }),
                Some(_) => {}
            }
        }
        if let Some(last) = list.last() {
            if let Some(&w) = writer.get(last) {
                if w != reader && last_append.get(&(w, key)) != Some(last) {
                    out.push(Anomaly::G1b {
                        reader,
                        writer: w,
                        key: key.into(),
                        value: *last,
                    });
                }
            }
        }
    }
    // The dependency graph over the transactions that count.
    let mut edges: HashMap<usize, Vec<(usize, Edge)>> = HashMap::new();
    let mut add = |a: usize, b: usize, e: Edge| {
        if a != b && counts(a) && counts(b) {
            edges.entry(a).or_default().push((b, e));
        }
    };
    for (key, full) in &order {
        let writers: Vec<Option<usize>> = full.iter().map(|v| writer.get(v).copied()).collect();
        for pair in writers.windows(2) {
            if let [Some(a), Some(b)] = pair {
                add(*a, *b, Edge::Ww);
            }
        }
        for (reader, k, list) in reads(history) {
            if k != *key {
                continue;
            }
            if let Some(w) = list.last().and_then(|v| writer.get(v)) {
                add(*w, reader, Edge::Wr);
            }
            if let Some(Some(next)) = writers.get(list.len()) {
                add(reader, *next, Edge::Rw);
            }
        }
    }
    let mut seen: HashSet<Vec<usize>> = HashSet::new();
    for (allowed, class) in [(Edge::Ww, 0), (Edge::Wr, 1), (Edge::Rw, 2)] {
        for scc in components(history.len(), &edges, allowed) {
            let mut key = scc.clone();
            key.sort_unstable();
            if !seen.insert(key) {
                continue;
            }
            out.push(match class {
                0 => Anomaly::G0(scc),
                1 => Anomaly::G1c(scc),
                _ => Anomaly::G2(scc),
            });
        }
    }
    out
}

/// Every read in the history: (transaction, key, list).
fn reads(history: &[Txn]) -> impl Iterator<Item = (usize, &str, &[u64])> {
    history.iter().enumerate().flat_map(|(i, t)| {
        t.ops.iter().filter_map(move |m| match m {
            Mop::Read { key, list } => Some((i, key.as_str(), list.as_slice())),
            Mop::Append { .. } => None,
        })
    })
}

/// The strongly connected components with more than one transaction, over edges of kind
/// `allowed` or weaker (Ww < Wr < Rw), by Tarjan's algorithm (iterative).
fn components(
    n: usize,
    edges: &HashMap<usize, Vec<(usize, Edge)>>,
    allowed: Edge,
) -> Vec<Vec<usize>> {
    let next = |v: usize| -> Vec<usize> {
        edges
            .get(&v)
            .map(|es| {
                es.iter()
                    .filter(|(_, e)| *e <= allowed)
                    .map(|(w, _)| *w)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (mut index, mut low, mut on) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
    let (mut stack, mut out, mut counter) = (Vec::new(), Vec::new(), 0);
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, Vec<usize>, usize)> = vec![(root, next(root), 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on[root] = true;
        while let Some((v, succ, at)) = work.last_mut() {
            let v = *v;
            if let Some(&w) = succ.get(*at) {
                *at += 1;
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on[w] = true;
                    work.push((w, next(w), 0));
                } else if on[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _, _)) = work.last() {
                low[*parent] = low[*parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut scc = Vec::new();
                while let Some(w) = stack.pop() {
                    on[w] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                if scc.len() > 1 {
                    out.push(scc);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(key: &str, value: u64) -> Mop {
        Mop::Append {
            key: key.into(),
            value,
        }
    }
    fn read(key: &str, list: &[u64]) -> Mop {
        Mop::Read {
            key: key.into(),
            list: list.to_vec(),
        }
    }
    fn txn(ops: Vec<Mop>) -> Txn {
        Txn {
            ops,
            outcome: Outcome::Committed,
        }
    }

    #[test]
    fn a_serial_history_has_no_anomaly() {
        let h = vec![
            txn(vec![append("x", 1), append("y", 2)]),
            txn(vec![read("x", &[1]), read("y", &[2])]),
            txn(vec![append("x", 3)]),
            txn(vec![read("x", &[1, 3]), read("y", &[2])]),
            Txn {
                ops: vec![append("y", 9)],
                outcome: Outcome::Aborted,
            },
            Txn {
                ops: vec![append("y", 10)],
                outcome: Outcome::Unknown,
            },
        ];
        assert_eq!(check(&h), vec![]);
    }

    #[test]
    fn a_long_fork_is_g2() {
        // Two readers see two independent appends in opposite orders.
        let h = vec![
            txn(vec![append("x", 1)]),
            txn(vec![append("y", 2)]),
            txn(vec![read("x", &[1]), read("y", &[])]),
            txn(vec![read("x", &[]), read("y", &[2])]),
        ];
        let found = check(&h);
        assert!(
            matches!(found.as_slice(), [Anomaly::G2(c)] if c.len() == 4),
            "{found:?}"
        );
    }

    #[test]
    fn circular_information_flow_is_g1c_and_write_cycles_are_g0() {
        let g1c = vec![
            txn(vec![append("x", 1), read("y", &[2])]),
            txn(vec![append("y", 2), read("x", &[1])]),
        ];
        assert!(
            matches!(check(&g1c).as_slice(), [Anomaly::G1c(_)]),
            "{:?}",
            check(&g1c)
        );
        let g0 = vec![
            txn(vec![append("x", 1), append("y", 4)]),
            txn(vec![append("x", 2), append("y", 3)]),
            txn(vec![read("x", &[1, 2]), read("y", &[3, 4])]),
        ];
        let found = check(&g0);
        assert!(
            found.iter().any(|a| matches!(a, Anomaly::G0(_))),
            "{found:?}"
        );
    }

    #[test]
    fn aborted_intermediate_garbage_and_forked_reads_are_found() {
        let h = vec![
            Txn {
                ops: vec![append("x", 1)],
                outcome: Outcome::Aborted,
            },
            txn(vec![read("x", &[1])]),
            txn(vec![append("y", 2), append("y", 3)]),
            txn(vec![read("y", &[2])]),
            txn(vec![read("z", &[7])]),
            txn(vec![read("w", &[]), read("w", &[])]),
        ];
        let found = check(&h);
        assert!(
            found.contains(&Anomaly::G1a {
                reader: 1,
                writer: 0,
                value: 1
            }),
            "{found:?}"
        );
        assert!(found
            .iter()
            .any(|a| matches!(a, Anomaly::G1b { value: 2, .. })));
        assert!(found
            .iter()
            .any(|a| matches!(a, Anomaly::Garbage { value: 7, .. })));
        let forked = vec![
            txn(vec![append("x", 1)]),
            txn(vec![append("x", 2)]),
            txn(vec![read("x", &[1])]),
            txn(vec![read("x", &[2])]),
        ];
        assert!(check(&forked)
            .iter()
            .any(|a| matches!(a, Anomaly::IncompatibleOrder { .. })));
    }
}
