//! The evaluator against IAM's documented cases, and a proptest against a plain
//! reference implementation (recursive glob, decision from the set of applicable
//! statements).

use proptest::prelude::*;

use super::*;

fn ctx(pairs: &[(&str, &[&str])]) -> Context {
    let mut c = Context::default();
    for (k, v) in pairs {
        c.set(k.to_string(), v.iter().map(|s| s.to_string()).collect());
    }
    c
}

fn decide(policy: &str, action: &str, resource: &str, c: &Context) -> Decision {
    let p = Policy::parse(policy).unwrap_or_else(|e| panic!("{e}"));
    evaluate(&[p], action, resource, c)
}

const MUSIC: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Music";

#[test]
fn deny_beats_allow_beats_implicit_deny() {
    let p = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/Music"},
        {"Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"*"}]}"#;
    let c = Context::default();
    assert_eq!(decide(p, "dynamodb:GetItem", MUSIC, &c), Decision::Allow);
    assert_eq!(
        decide(p, "dynamodb:DeleteItem", MUSIC, &c),
        Decision::ExplicitDeny
    );
    assert_eq!(
        decide(
            p,
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:1:table/Other",
            &c
        ),
        Decision::ImplicitDeny
    );
}

#[test]
fn actions_are_case_insensitive_and_not_action_inverts() {
    let p = r#"{"Statement":{"Effect":"Allow","Action":"DynamoDB:getitem","Resource":"*"}}"#;
    assert_eq!(
        decide(p, "dynamodb:GetItem", MUSIC, &Context::default()),
        Decision::Allow
    );
    let p = r#"{"Statement":{"Effect":"Allow","NotAction":"dynamodb:DeleteTable","Resource":"*"}}"#;
    assert_eq!(
        decide(p, "dynamodb:DescribeTable", MUSIC, &Context::default()),
        Decision::Allow
    );
    assert_eq!(
        decide(p, "dynamodb:DeleteTable", MUSIC, &Context::default()),
        Decision::ImplicitDeny
    );
}

#[test]
fn not_resource_and_case_sensitive_resources() {
    let p = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"dynamodb:*","NotResource":"arn:aws:dynamodb:us-east-1:123456789012:table/Music"}]}"#;
    let c = Context::default();
    assert_eq!(decide(p, "dynamodb:GetItem", MUSIC, &c), Decision::Allow);
    assert_eq!(
        decide(p, "dynamodb:GetItem", &MUSIC.replace("Music", "music"), &c),
        Decision::ExplicitDeny
    );
}

#[test]
fn leading_keys_with_username_variable() {
    let p = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*",
        "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}}}"#;
    let a = ctx(&[
        ("aws:username", &["alice"]),
        ("dynamodb:LeadingKeys", &["alice"]),
    ]);
    assert_eq!(decide(p, "dynamodb:GetItem", MUSIC, &a), Decision::Allow);
    let b = ctx(&[
        ("aws:username", &["alice"]),
        ("dynamodb:LeadingKeys", &["alice", "bob"]),
    ]);
    assert_eq!(
        decide(p, "dynamodb:GetItem", MUSIC, &b),
        Decision::ImplicitDeny
    );
    // Absent key: ForAllValues passes vacuously (AWS's Scan pitfall).
    let none = ctx(&[("aws:username", &["alice"])]);
    assert_eq!(decide(p, "dynamodb:GetItem", MUSIC, &none), Decision::Allow);
    // No username (an assumed role): the variable has no value, nothing equals it.
    let role = ctx(&[("dynamodb:LeadingKeys", &["alice"])]);
    assert_eq!(
        decide(p, "dynamodb:GetItem", MUSIC, &role),
        Decision::ImplicitDeny
    );
}

#[test]
fn operators_and_missing_keys() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a [&'a str])], bool);
    let cases: &[Case] = &[
        (
            r#"{"StringEqualsIfExists":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}"#,
            &[],
            true,
        ),
        (
            r#"{"StringEqualsIfExists":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}"#,
            &[("dynamodb:Select", &["ALL_ATTRIBUTES"])],
            false,
        ),
        (
            r#"{"StringEquals":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}"#,
            &[],
            false,
        ),
        (
            r#"{"StringNotEquals":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}"#,
            &[],
            true,
        ),
        (
            r#"{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/a*"}}"#,
            &[("aws:PrincipalArn", &["arn:aws:iam::1:user/alice"])],
            true,
        ),
        (
            r#"{"StringEqualsIgnoreCase":{"k":"ABC"}}"#,
            &[("k", &["abc"])],
            true,
        ),
        (
            r#"{"NumericLessThan":{"k":"10"}}"#,
            &[("k", &["9.5"])],
            true,
        ),
        (
            r#"{"NumericGreaterThanEquals":{"k":10}}"#,
            &[("k", &["x"])],
            false,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
            &[("aws:SecureTransport", &["FALSE"])],
            true,
        ),
        (r#"{"Null":{"aws:username":"true"}}"#, &[], true),
        (r#"{"Null":{"aws:username":"false"}}"#, &[], false),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:sts::*:assumed-role/r/*"}}"#,
            &[("aws:PrincipalArn", &["arn:aws:sts::1:assumed-role/r/s"])],
            true,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"dynamodb:EnclosingOperation":["TransactWriteItems"]}}"#,
            &[],
            false,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"dynamodb:Attributes":["UserId","TopScore"]}}"#,
            &[("dynamodb:Attributes", &["UserId", "Wins"])],
            false,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"dynamodb:Attributes":["Secret"]}}"#,
            &[("dynamodb:Attributes", &["UserId"])],
            true,
        ),
        (
            r#"{"ForAnyValue:StringLike":{"dynamodb:Attributes":["S*"]}}"#,
            &[("dynamodb:Attributes", &["UserId", "Secret"])],
            true,
        ),
    ];
    for (cond, pairs, want) in cases {
        let p = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{cond}}}}}"#
        );
        let got = decide(&p, "dynamodb:GetItem", MUSIC, &ctx(pairs)) == Decision::Allow;
        assert_eq!(got, *want, "{cond} with {pairs:?}");
    }
}

#[test]
fn malformed_policies_are_refused_with_a_reason() {
    for (doc, needle) in [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (
            r#"{"Version":"2020-01-01","Statement":[]}"#,
            "Version must be",
        ),
        (
            r#"{"Statement":{"Effect":"Permit","Action":"*","Resource":"*"}}"#,
            "Effect must be",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "exactly one of Action and NotAction",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}"#,
            "exactly one of Resource",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}}"#,
            "list of strings",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"GetItem","Resource":"*"}}"#,
            "service:Action",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}}"#,
            "unknown statement element",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateSoonish":{"aws:CurrentTime":"2030-01-01"}}}}"#,
            "not supported",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"k":"maybe"}}}}"#,
            "true or false",
        ),
        (r#"{"Statement":7}"#, "Statement must be"),
    ] {
        match Policy::parse(doc) {
            Ok(_) => panic!("{doc} was accepted"),
            Err(e) => assert!(e.0.contains(needle), "{doc}: {e}"),
        }
    }
}

// ---- reference implementation ----

fn ref_glob(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| ref_glob(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && ref_glob(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && ref_glob(rest, &t[1..]),
    }
}

#[derive(Debug, Clone)]
struct RefStmt {
    allow: bool,
    not_action: bool,
    actions: Vec<String>,
    not_resource: bool,
    resources: Vec<String>,
    /// (operator, key, values) with StringEquals / StringLike / ForAllValues:StringEquals / Null.
    conds: Vec<(&'static str, &'static str, Vec<String>)>,
}

fn ref_cond(op: &str, key: &str, values: &[String], c: &Context) -> bool {
    let got = c.get(&key.to_ascii_lowercase()).filter(|v| !v.is_empty());
    let eq = |v: &String| values.iter().any(|p| p == v);
    let like = |v: &String| {
        let vc: Vec<char> = v.chars().collect();
        values
            .iter()
            .any(|p| ref_glob(&p.chars().collect::<Vec<_>>(), &vc))
    };
    match (op, got) {
        ("Null", g) => values.iter().any(|v| (v == "true") == g.is_none()),
        ("ForAllValues:StringEquals", None) => true,
        ("ForAllValues:StringEquals", Some(g)) => g.iter().all(eq),
        ("StringNotEquals", None) => true,
        ("StringNotEquals", Some(g)) => g.iter().all(|v| !eq(v)),
        ("StringEqualsIfExists", None) => true,
        (_, None) => false,
        ("StringEquals" | "StringEqualsIfExists", Some(g)) => g.iter().any(eq),
        ("StringLike", Some(g)) => g.iter().any(like),
        _ => false,
    }
}

fn ref_decide(stmts: &[RefStmt], action: &str, resource: &str, c: &Context) -> Decision {
    let a: Vec<char> = action.to_ascii_lowercase().chars().collect();
    let r: Vec<char> = resource.chars().collect();
    let applicable: Vec<&RefStmt> = stmts
        .iter()
        .filter(|s| {
            let am = s
                .actions
                .iter()
                .any(|p| ref_glob(&p.to_ascii_lowercase().chars().collect::<Vec<_>>(), &a));
            let rm = s
                .resources
                .iter()
                .any(|p| ref_glob(&p.chars().collect::<Vec<_>>(), &r));
            am != s.not_action
                && rm != s.not_resource
                && s.conds.iter().all(|(o, k, v)| ref_cond(o, k, v, c))
        })
        .collect();
    if applicable.iter().any(|s| !s.allow) {
        Decision::ExplicitDeny
    } else if applicable.iter().any(|s| s.allow) {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

fn to_json(stmts: &[RefStmt]) -> String {
    let list: Vec<Value> = stmts
        .iter()
        .map(|s| {
            let mut o = serde_json::Map::new();
            o.insert(
                "Effect".into(),
                Value::from(if s.allow { "Allow" } else { "Deny" }),
            );
            o.insert(
                if s.not_action { "NotAction" } else { "Action" }.into(),
                Value::from(s.actions.clone()),
            );
            o.insert(
                if s.not_resource {
                    "NotResource"
                } else {
                    "Resource"
                }
                .into(),
                Value::from(s.resources.clone()),
            );
            if !s.conds.is_empty() {
                let mut c = serde_json::Map::new();
                for (op, key, vals) in &s.conds {
                    let entry = c
                        .entry(op.to_string())
                        .or_insert_with(|| Value::Object(Default::default()));
                    if let Value::Object(m) = entry {
                        m.insert(key.to_string(), Value::from(vals.clone()));
                    }
                }
                o.insert("Condition".into(), Value::Object(c));
            }
            Value::Object(o)
        })
        .collect();
    // Version 2008-10-17: no variables, so `$` in random strings stays literal.
    serde_json::json!({"Version":"2008-10-17","Statement":list}).to_string()
}

fn word() -> impl Strategy<Value = String> {
    "[ab*?:]{0,4}"
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        prop_oneof![
            Just("dynamodb:GetItem"),
            Just("dynamodb:Get*"),
            Just("dynamodb:*Item"),
            Just("DynamoDB:query"),
            Just("dynamodb:PartiQL*"),
            Just("application-autoscaling:*"),
        ]
        .prop_map(str::to_string),
        word().prop_map(|w| format!("dynamodb:{w}")),
        word().prop_map(|w| format!("DynamoDB:{}", w.to_uppercase())),
    ]
}

fn stmt() -> impl Strategy<Value = RefStmt> {
    let cond = (
        prop_oneof![
            Just("StringEquals"),
            Just("StringNotEquals"),
            Just("StringLike"),
            Just("StringEqualsIfExists"),
            Just("ForAllValues:StringEquals"),
            Just("Null"),
        ],
        prop_oneof![Just("k1"), Just("K2")],
        proptest::collection::vec(word(), 1..3),
    )
        .prop_map(|(op, k, v)| {
            let v = if op == "Null" {
                vec![if v[0].len() % 2 == 0 { "true" } else { "false" }.to_string()]
            } else {
                v
            };
            (op, k, v)
        });
    (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(action(), 1..3),
        any::<bool>(),
        proptest::collection::vec(word(), 1..3),
        proptest::collection::vec(cond, 0..3),
    )
        .prop_map(
            |(allow, not_action, actions, not_resource, resources, mut conds)| {
                // One (operator, key) per statement: JSON objects cannot repeat keys.
                let mut seen = std::collections::HashSet::new();
                conds.retain(|(o, k, _)| seen.insert((*o, *k)));
                RefStmt {
                    allow,
                    not_action,
                    actions,
                    not_resource,
                    resources,
                    conds,
                }
            },
        )
}

proptest! {
    #[test]
    fn evaluator_agrees_with_the_reference(
        stmts in proptest::collection::vec(stmt(), 1..5),
        act in "dynamodb:[abAB:]{0,4}",
        res in "[ab:]{0,5}",
        k1 in proptest::option::of(proptest::collection::vec("[ab:]{0,3}", 0..3)),
        k2 in proptest::option::of(proptest::collection::vec("[ab:]{0,3}", 0..3)),
    ) {
        let mut c = Context::default();
        if let Some(v) = k1 { c.set("k1", v); }
        if let Some(v) = k2 { c.set("K2", v); }
        let doc = to_json(&stmts);
        let policy = Policy::parse(&doc).map_err(|e| TestCaseError::fail(format!("{doc}: {e}")))?;
        prop_assert_eq!(evaluate(&[policy], &act, &res, &c), ref_decide(&stmts, &act, &res, &c), "{}", doc);
    }
}

/// A request action: one daxlite's tuples name (the identity's compiled path), or any
/// string (its fallback).
fn request_action() -> impl Strategy<Value = String> {
    prop_oneof![
        prop_oneof![
            Just("dynamodb:GetItem"),
            Just("dynamodb:Query"),
            Just("dynamodb:PutItem"),
            Just("dynamodb:PartiQLSelect"),
            Just("dynamodb:ConditionCheckItem"),
            Just("application-autoscaling:DescribeScalableTargets"),
        ]
        .prop_map(str::to_string),
        "dynamodb:[abAB:]{0,4}",
    ]
}

proptest! {
    /// What the request path uses: the statements compiled by action, and a context
    /// holding only the keys the policies read (an unread key `k3` is dropped) — the same
    /// decision as the reference on the full context.
    #[test]
    fn compiled_identity_agrees_with_the_reference(
        stmts in proptest::collection::vec(stmt(), 1..5),
        act in request_action(),
        res in "[ab:]{0,5}",
        k1 in proptest::option::of(proptest::collection::vec("[ab:]{0,3}", 0..3)),
        k2 in proptest::option::of(proptest::collection::vec("[ab:]{0,3}", 0..3)),
        k3 in proptest::collection::vec("[ab:]{0,3}", 0..3),
    ) {
        let doc = to_json(&stmts);
        let policy = Policy::parse(&doc).map_err(|e| TestCaseError::fail(format!("{doc}: {e}")))?;
        let identity = crate::auth::identity::Identity::new(
            "arn:aws:iam::123456789012:user/u",
            vec![policy],
        )
        .map_err(TestCaseError::fail)?;
        let mut full = Context::default();
        let mut limited = identity.context(false);
        for c in [&mut full, &mut limited] {
            if let Some(v) = &k1 { c.set("k1", v.clone()); }
            if let Some(v) = &k2 { c.set("K2", v.clone()); }
            c.set("k3", k3.clone());
        }
        prop_assert!(limited.get("k3").is_none(), "k3 is read by no policy");
        prop_assert_eq!(
            identity.evaluate(&act, &res, &limited),
            ref_decide(&stmts, &act, &res, &full),
            "{}", doc
        );
    }
}

/// Cost of one decision with one policy of 10 statements (the last one applies), as
/// the cache-hit path pays it: `cargo test -p daxlite --lib evaluation_cost -- --ignored --nocapture`.
#[test]
#[ignore]
fn evaluation_cost() {
    let mut stmts: Vec<String> = (0..9)
        .map(|i| format!(r#"{{"Effect":"Allow","Action":"dynamodb:Query","Resource":"arn:aws:dynamodb:*:*:table/T{i}","Condition":{{"StringEquals":{{"dynamodb:Select":"COUNT"}}}}}}"#))
        .collect();
    stmts.push(r#"{"Effect":"Allow","Action":"dynamodb:Get*","Resource":"arn:aws:dynamodb:*:*:table/Music","Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}}"#.into());
    let p = Policy::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        stmts.join(",")
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let c = ctx(&[
        ("aws:username", &["alice"]),
        ("dynamodb:LeadingKeys", &["alice"]),
        ("dynamodb:Select", &["ALL_ATTRIBUTES"]),
    ]);
    let n = 100_000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        assert_eq!(
            evaluate(std::slice::from_ref(&p), "dynamodb:GetItem", MUSIC, &c),
            Decision::Allow
        );
    }
    println!(
        "{:.2} µs per decision",
        start.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
