//! Evaluation tests: conditions, projection, update application (exact errors), and a
//! property test of random update sequences against a tiny reference model.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::expr::{ExprKind, Resolver};
use crate::model::{AttributeValue as V, Item, Number};

fn n(x: i64) -> V {
    V::N(Number::from(x))
}

fn s(x: &str) -> V {
    V::S(x.to_string())
}

fn item() -> Item {
    let mut inner = Item::new();
    inner.insert("x".into(), n(1));
    inner.insert("y".into(), s("why"));
    [
        ("a".to_string(), n(5)),
        ("str".to_string(), s("hello")),
        ("bin".to_string(), V::B(vec![1, 2, 3])),
        ("ss".to_string(), V::Ss(vec!["p".into(), "q".into()])),
        (
            "l".to_string(),
            V::L(vec![n(10), s("e"), V::M(inner.clone())]),
        ),
        ("m".to_string(), V::M(inner)),
    ]
    .into_iter()
    .collect()
}

fn vals(pairs: &[(&str, V)]) -> Values {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn holds(src: &str, values: &Values) -> Result<bool, String> {
    let mut r = Resolver::new([], values.keys().cloned());
    let c = r
        .condition_expr(src, ExprKind::Condition)
        .map_err(|e| format!("{e}"))?;
    check_condition_values(&c, values, ExprKind::Condition)
        .map_err(|e| e.message().unwrap_or_default().to_string())?;
    Ok(eval_condition(&c, &item(), values))
}

#[test]
fn conditions() {
    let v = vals(&[
        (":5", n(5)),
        (":1", n(1)),
        (":9", n(9)),
        (":h", s("he")),
        (":p", s("p")),
        (":S", s("S")),
        (":e", s("e")),
    ]);
    let t = |src: &str| holds(src, &v);
    assert_eq!(t("a = :5"), Ok(true));
    assert_eq!(t("a <> :5"), Ok(false));
    assert_eq!(t("nope <> :5"), Ok(true));
    assert_eq!(t("nope = :5"), Ok(false));
    assert_eq!(t("a < :9 AND a > :1 AND a >= :5 AND a <= :5"), Ok(true));
    assert_eq!(t("str < :5"), Ok(false), "type mismatch is false");
    assert_eq!(t("a BETWEEN :1 AND :9"), Ok(true));
    assert_eq!(t("a IN (:1, :9)"), Ok(false));
    assert_eq!(t("a IN (:1, :5)"), Ok(true));
    assert_eq!(t("begins_with(str, :h)"), Ok(true));
    assert_eq!(
        t("contains(str, :e) AND contains(ss, :p) AND contains(l, :e)"),
        Ok(true)
    );
    assert_eq!(
        t("attribute_exists(m.x) AND attribute_not_exists(m.z) AND attribute_exists(l[2].y)"),
        Ok(true)
    );
    assert_eq!(t("attribute_type(str, :S)"), Ok(true));
    assert_eq!(
        t("size(str) = :5 AND size(ss) > :1 AND size(l) < :5 AND size(bin) > :1"),
        Ok(true)
    );
    assert_eq!(t("NOT a = :5 OR a = :1"), Ok(false));
    assert_eq!(
        t("a BETWEEN :5 AND :1"),
        Err("Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}".into())
    );
    assert_eq!(
        t("a BETWEEN :h AND :1"),
        Err("Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {S:he}, upper bound operand: AttributeValue: {N:1}".into())
    );
    assert_eq!(
        t("attribute_type(a, :h)"),
        Err("Invalid ConditionExpression: Invalid attribute type name found; type: he, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}".into())
    );
    assert_eq!(
        t("begins_with(str, :5)"),
        Err("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N".into())
    );
}

#[test]
fn projection() {
    let mut r = Resolver::new([], []);
    let p = r
        .projection_expr("m.x, l[2].y, l[0], nothing, l[7], str")
        .unwrap_or_else(|_| crate::expr::Projection { paths: vec![] });
    let got = project(&item(), &p.paths);
    let mut m = Item::new();
    m.insert("x".into(), n(1));
    let mut l2 = Item::new();
    l2.insert("y".into(), s("why"));
    let want: Item = [
        ("m".to_string(), V::M(m)),
        ("l".to_string(), V::L(vec![n(10), V::M(l2)])),
        ("str".to_string(), s("hello")),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
}

fn run(src: &str, start: &Item, values: &Values) -> Result<UpdateOutcome, String> {
    let mut r = Resolver::new([], values.keys().cloned());
    let u = r
        .update_expr(src)
        .map_err(|e| e.message().unwrap_or_default().to_string())?;
    check_update_values(&u, values).map_err(|e| e.message().unwrap_or_default().to_string())?;
    apply_update(start, &u, values).map_err(|e| e.message().unwrap_or_default().to_string())
}

#[test]
fn updates() {
    let v = vals(&[
        (":1", n(1)),
        (":s", s("new")),
        (":l", V::L(vec![n(99)])),
        (":ss", V::Ss(vec!["p".into(), "z".into()])),
    ]);
    let out = run(
        "SET a = a + :1, str = :s, l = list_append(l, :l), m.z = if_not_exists(m.z, :1) REMOVE bin",
        &item(),
        &v,
    );
    let out = out.unwrap();
    assert_eq!(out.item.get("a"), Some(&n(6)));
    assert_eq!(out.item.get("str"), Some(&s("new")));
    assert!(matches!(out.item.get("l"), Some(V::L(l)) if l.len() == 4));
    assert!(!out.item.contains_key("bin"));
    assert_eq!(
        out.touched.iter().map(String::as_str).collect::<Vec<_>>(),
        ["a", "bin", "l", "m", "str"]
    );
    // List index beyond the end appends; removing shifts.
    let out = run("SET l[10] = :1 REMOVE l[0], l[1]", &item(), &v).unwrap();
    assert!(matches!(out.item.get("l"), Some(V::L(l)) if l.len() == 2 && l.last() == Some(&n(1))));
    // DELETE of the last members removes the attribute; ADD to absent creates it.
    let out = run("DELETE ss :ss ADD cnt :1", &item(), &v).unwrap();
    assert_eq!(out.item.get("ss"), Some(&V::Ss(vec!["q".into()])));
    assert_eq!(out.item.get("cnt"), Some(&n(1)));
    assert_eq!(
        run("SET str = str + :1", &item(), &v),
        Err("An operand in the update expression has an incorrect data type".into())
    );
    assert_eq!(
        run("ADD str :1", &item(), &v),
        Err("An operand in the update expression has an incorrect data type".into())
    );
    assert_eq!(
        run("SET nope.x = :1", &item(), &v),
        Err("The document path provided in the update expression is invalid for update".into())
    );
    assert_eq!(
        run("SET a = nope", &item(), &v),
        Err(
            "The provided expression refers to an attribute that does not exist in the item".into()
        )
    );
    assert_eq!(
        run("ADD a :s", &item(), &v),
        Err("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND".into())
    );
    assert_eq!(
        run("SET a = :s + :1", &item(), &v),
        Err("Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S".into())
    );
    let big = vals(&[(
        ":big",
        V::N(
            Number::parse("9.9999999999999999999999999999999999999E+125")
                .unwrap_or_else(|_| Number::from(0)),
        ),
    )]);
    let start: Item = [(
        "a".to_string(),
        V::N(
            Number::parse("9.9999999999999999999999999999999999999E+125")
                .unwrap_or_else(|_| Number::from(0)),
        ),
    )]
    .into_iter()
    .collect();
    assert_eq!(
        run("SET a = a + :big", &start, &big),
        Err("Number overflow. Attempting to store a number with magnitude larger than supported range".into())
    );
}

mod model {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Set(usize, i64),
        Incr(usize, i64),
        Remove(usize),
        AddN(usize, i64),
        AddS(usize, Vec<u8>),
        DelS(usize, Vec<u8>),
    }

    #[derive(Clone, Debug, PartialEq)]
    enum M {
        Num(i64),
        Set(BTreeSet<u8>),
    }

    const NAMES: [&str; 3] = ["a", "b", "c"];

    fn op() -> impl Strategy<Value = Op> {
        let k = 0usize..3;
        let set = prop::collection::vec(0u8..4, 1..3);
        prop_oneof![
            (k.clone(), -50i64..50).prop_map(|(k, v)| Op::Set(k, v)),
            (k.clone(), -50i64..50).prop_map(|(k, v)| Op::Incr(k, v)),
            k.clone().prop_map(Op::Remove),
            (k.clone(), -50i64..50).prop_map(|(k, v)| Op::AddN(k, v)),
            (k.clone(), set.clone()).prop_map(|(k, v)| Op::AddS(k, v)),
            (k, set).prop_map(|(k, v)| Op::DelS(k, v)),
        ]
    }

    fn to_ss(v: &[u8]) -> V {
        let set: BTreeSet<String> = v.iter().map(|b| format!("m{b}")).collect();
        V::Ss(set.into_iter().collect())
    }

    /// DynamoDB's messages for the two ways these updates fail.
    const MISSING: &str =
        "The provided expression refers to an attribute that does not exist in the item";
    const BAD_OPERAND: &str = "An operand in the update expression has an incorrect data type";

    /// The reference: the exact ValidationException message when DynamoDB rejects the
    /// update (`SET a = a + :v` on a missing `a`: MISSING; arithmetic on a set, ADD or
    /// DELETE of the other kind: BAD_OPERAND).
    fn model_step(m: &mut BTreeMap<String, M>, op: &Op) -> Result<(), &'static str> {
        let key = |k: &usize| NAMES.get(*k).map(|s| s.to_string()).unwrap_or_default();
        match op {
            Op::Set(k, v) => {
                m.insert(key(k), M::Num(*v));
            }
            Op::Incr(k, v) => match m.get(&key(k)) {
                Some(M::Num(x)) => {
                    let x = *x;
                    m.insert(key(k), M::Num(x + v));
                }
                Some(M::Set(_)) => return Err(BAD_OPERAND),
                None => return Err(MISSING),
            },
            Op::Remove(k) => {
                m.remove(&key(k));
            }
            Op::AddN(k, v) => match m.get(&key(k)) {
                None => {
                    m.insert(key(k), M::Num(*v));
                }
                Some(M::Num(x)) => {
                    let x = *x;
                    m.insert(key(k), M::Num(x + v));
                }
                Some(_) => return Err(BAD_OPERAND),
            },
            Op::AddS(k, v) => match m.get_mut(&key(k)) {
                None => {
                    m.insert(key(k), M::Set(v.iter().copied().collect()));
                }
                Some(M::Set(s)) => s.extend(v.iter().copied()),
                Some(_) => return Err(BAD_OPERAND),
            },
            Op::DelS(k, v) => match m.get_mut(&key(k)) {
                None => {}
                Some(M::Set(s)) => {
                    v.iter().for_each(|b| {
                        s.remove(b);
                    });
                    if s.is_empty() {
                        m.remove(&key(k));
                    }
                }
                Some(_) => return Err(BAD_OPERAND),
            },
        }
        Ok(())
    }

    fn to_expr(op: &Op) -> (String, Values) {
        let name = |k: &usize| NAMES.get(*k).copied().unwrap_or("a");
        match op {
            Op::Set(k, v) => (format!("SET {} = :v", name(k)), vals(&[(":v", n(*v))])),
            Op::Incr(k, v) => (
                format!("SET {0} = {0} + :v", name(k)),
                vals(&[(":v", n(*v))]),
            ),
            Op::Remove(k) => (format!("REMOVE {}", name(k)), Values::new()),
            Op::AddN(k, v) => (format!("ADD {} :v", name(k)), vals(&[(":v", n(*v))])),
            Op::AddS(k, v) => (format!("ADD {} :v", name(k)), vals(&[(":v", to_ss(v))])),
            Op::DelS(k, v) => (format!("DELETE {} :v", name(k)), vals(&[(":v", to_ss(v))])),
        }
    }

    fn same(item: &Item, m: &BTreeMap<String, M>) -> bool {
        item.len() == m.len()
            && m.iter().all(|(k, v)| match (v, item.get(k)) {
                (M::Num(x), Some(got)) => got == &n(*x),
                (M::Set(s), Some(got)) => got == &to_ss(&s.iter().copied().collect::<Vec<_>>()),
                _ => false,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// Each step: the engine's outcome equals the model's — the same item after an
        /// accepted update, the exact same message for a rejected one.
        #[test]
        fn random_updates_match_the_model(ops in prop::collection::vec(op(), 1..25)) {
            let mut item = Item::new();
            let mut m = BTreeMap::new();
            for op in &ops {
                let (src, values) = to_expr(op);
                let mut next = m.clone();
                let expected = model_step(&mut next, op);
                let got = run(&src, &item, &values);
                match (expected, got) {
                    (Ok(()), Ok(out)) => {
                        item = out.item;
                        m = next;
                    }
                    (Err(want), Err(message)) => prop_assert_eq!(message.as_str(), want, "{}", src),
                    (e, g) => prop_assert!(false, "{src}: model {e:?}, engine {g:?}"),
                }
                prop_assert!(same(&item, &m), "{src}: {item:?} vs {m:?}");
            }
        }
    }
}

#[test]
fn ordering_comparisons_reject_unordered_literal_types() {
    use crate::expr::{parse_condition, ExprKind};
    use crate::model::AttributeValue;
    let mut values = crate::expr::eval::Values::new();
    values.insert(":s".to_string(), AttributeValue::Ss(vec!["x".into()]));
    values.insert(
        ":n".to_string(),
        AttributeValue::N(crate::model::Number::from(1)),
    );
    let check = |src: &str| {
        let c = parse_condition(src, ExprKind::Condition).map_err(|e| e.to_string())?;
        crate::expr::eval::check_condition_values(&c, &values, ExprKind::Condition)
            .map_err(|e| e.message().unwrap_or_default().to_string())
    };
    assert_eq!(
        check("a < :s"),
        Err("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: SS".into())
    );
    assert_eq!(
        check("a BETWEEN :s AND :n"),
        Err("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: SS".into())
    );
    assert_eq!(check("a = :s"), Ok(()));
    assert_eq!(check("a >= :n"), Ok(()));
}
