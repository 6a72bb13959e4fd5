//! The Date*, IpAddress/NotIpAddress and BinaryEquals operators against a plain
//! reference: random instants, addresses and byte strings are rendered in the forms
//! policies and requests use (ISO 8601 or epoch seconds; dotted IPv4, IPv6, CIDR;
//! base64) and the evaluator's decision must equal the comparison of the raw values.
//! Also the resource-based (Principal) form of the evaluator.

use base64::Engine as _;
use proptest::prelude::*;

use super::*;

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// ISO 8601 UTC by walking years and months (independent of the parser's arithmetic).
fn iso(secs: i64) -> String {
    let mut days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let mut y = 1970;
    let year_len = |y: i64| if leap(y) { 366 } else { 365 };
    while days < 0 {
        y -= 1;
        days += year_len(y);
    }
    while days >= year_len(y) {
        days -= year_len(y);
        y += 1;
    }
    let months = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut m = 0;
    while days >= months[m] {
        days -= months[m];
        m += 1;
    }
    format!(
        "{y:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        m + 1,
        days + 1,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn decide_one(op: &str, policy_values: &[String], request: Option<String>) -> Decision {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {op: {"k": policy_values}}}]
    })
    .to_string();
    let p = Policy::parse(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let mut c = Context::default();
    if let Some(v) = request {
        c.set("k", vec![v]);
    }
    evaluate(&[p], "dynamodb:GetItem", "arn:x", &c)
}

/// The reference: absent key → only negated and IfExists hold; else any policy value
/// compares true (negated: none does).
fn expect(op: &str, request: Option<bool>) -> Decision {
    let negated = op.contains("Not");
    let holds = match request {
        None => negated || op.ends_with("IfExists"),
        Some(any) => any != negated,
    };
    if holds {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

fn render_time(secs: i64, as_iso: bool) -> String {
    if as_iso {
        iso(secs)
    } else {
        secs.to_string()
    }
}

proptest! {
    #[test]
    fn date_operators_agree_with_integer_comparison(
        op in prop_oneof![Just("DateEquals"), Just("DateNotEquals"), Just("DateLessThan"),
            Just("DateLessThanEquals"), Just("DateGreaterThan"), Just("DateGreaterThanEquals"),
            Just("DateLessThanIfExists")],
        policy in proptest::collection::vec((-2_000_000_000i64..4_000_000_000, any::<bool>()), 1..3),
        request in proptest::option::of((-2_000_000_000i64..4_000_000_000, any::<bool>())),
        near in any::<bool>(),
    ) {
        // Often the same instant, so equality is exercised.
        let request = request.map(|(t, f)| (if near { policy[0].0 } else { t }, f));
        let values: Vec<String> = policy.iter().map(|(t, f)| render_time(*t, *f)).collect();
        let cmp = |a: i64, b: i64| match op.trim_end_matches("IfExists") {
            "DateEquals" | "DateNotEquals" => a == b,
            "DateLessThan" => a < b,
            "DateLessThanEquals" => a <= b,
            "DateGreaterThan" => a > b,
            _ => a >= b,
        };
        let any = request.map(|(r, _)| policy.iter().any(|(p, _)| cmp(r, *p)));
        prop_assert_eq!(
            decide_one(op, &values, request.map(|(t, f)| render_time(t, f))),
            expect(op, any)
        );
    }

    #[test]
    fn ip_operators_agree_with_prefix_masks(
        op in prop_oneof![Just("IpAddress"), Just("NotIpAddress")],
        v6 in any::<bool>(),
        net in any::<u128>(),
        bits in 0u32..=128,
        addr in any::<u128>(),
        near in any::<bool>(),
        absent in proptest::bool::weighted(0.1),
    ) {
        let width = if v6 { 128 } else { 32 };
        let bits = bits % (width + 1);
        let mask = |x: u128| if v6 { x } else { x & 0xffff_ffff };
        let (net, mut addr) = (mask(net), mask(addr));
        if near && bits > 0 {
            // Same prefix, random host part.
            let host_bits = width - bits;
            let host = if host_bits == 128 { addr } else { addr & ((1u128 << host_bits) - 1) };
            addr = if host_bits == 128 { host } else { (net >> host_bits << host_bits) | host };
        }
        let render = |x: u128| if v6 {
            std::net::Ipv6Addr::from(x).to_string()
        } else {
            std::net::Ipv4Addr::from(x as u32).to_string()
        };
        let inside = bits == 0 || (net ^ addr) >> (width - bits) == 0;
        let block = format!("{}/{bits}", render(net));
        let request = (!absent).then(|| render(addr));
        // An IPv4-mapped IPv6 address is the IPv4 address.
        let request = match (&request, v6) {
            (Some(r), false) if near => Some(format!("::ffff:{r}")),
            _ => request,
        };
        prop_assert_eq!(
            decide_one(op, &[block], request),
            expect(op, (!absent).then_some(inside))
        );
    }

    #[test]
    fn binary_equals_compares_bytes(
        policy in proptest::collection::vec(proptest::collection::vec(0u8..3, 0..4), 1..3),
        request in proptest::option::of(proptest::collection::vec(0u8..3, 0..4)),
    ) {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let values: Vec<String> = policy.iter().map(|b| b64(b)).collect();
        let any = request.as_ref().map(|r| policy.iter().any(|p| p == r));
        prop_assert_eq!(
            decide_one("BinaryEquals", &values, request.as_deref().map(b64)),
            expect("BinaryEquals", any)
        );
    }
}

#[test]
fn iso_reference_matches_known_instants() {
    assert_eq!(iso(0), "1970-01-01T00:00:00Z");
    assert_eq!(iso(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(iso(-1), "1969-12-31T23:59:59Z");
}

#[test]
fn resource_policies_name_principals() {
    let doc = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"dynamodb:GetItem","Resource":"*"},
        {"Effect":"Deny","Principal":"*","Action":"dynamodb:PutItem","Resource":"*"}]}"#;
    let p = Policy::parse_resource(doc).unwrap_or_else(|e| panic!("{e}"));
    let caller = |principal: &'static str| Caller {
        principal,
        principal_arn: principal,
        account: "123456789012",
        cross_account: false,
    };
    let alice = caller("arn:aws:iam::123456789012:user/alice");
    let bob = caller("arn:aws:iam::123456789012:user/bob");
    let c = Context::default();
    let d = |who, action| evaluate_resource(&[&p], who, action, "arn:x", &c);
    assert_eq!(d(alice, "dynamodb:GetItem"), Decision::Allow);
    assert_eq!(d(bob, "dynamodb:GetItem"), Decision::ImplicitDeny);
    assert_eq!(d(bob, "dynamodb:PutItem"), Decision::ExplicitDeny);
    // Identity policies take no Principal; resource policies need one.
    assert!(Policy::parse(doc).is_err());
    assert!(Policy::parse_resource(
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#
    )
    .is_err());
}
