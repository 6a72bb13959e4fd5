//! The bodies of the proxy's cargo-fuzz targets (`proxy/fuzz/fuzz_targets/*.rs`) as
//! plain functions, so the same oracle runs under libFuzzer (nightly, by hand) and when
//! an ordinary `cargo test` replays every corpus file (`tests/tests/reliability.rs`).
//! Each panics when its oracle fails, and is never called by the server.

use crate::auth::identity::Identity;
use crate::auth::policy::{evaluate, evaluate_resource, Caller, Context, Policy};

/// A target's body: runs one input, panics when the oracle fails.
pub type Target = fn(&[u8]);

/// The fuzz targets by name (the corpus folder names), for replaying.
pub const TARGETS: &[(&str, Target)] = &[("auth_header", auth_header), ("policy", policy)];

const ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PartiQLSelect",
    "application-autoscaling:PutScalingPolicy",
    "dynamodb:NotAnAction",
];

const RESOURCES: &[&str] = &[
    "arn:aws:dynamodb:us-east-1:123456789012:table/Music",
    "arn:aws:dynamodb:us-east-1:123456789012:table/Music/index/ByYear",
    "arn:aws:dynamodb:us-east-1:123456789012:table/Music/stream/2024-01-01T00:00:00.000",
    "*",
];

/// Fills `c` with one value for each key a DynamoDB request can carry.
fn fill(c: &mut Context) {
    let pairs: &[(&'static str, &[&str])] = &[
        ("aws:username", &["alice"]),
        (
            "aws:PrincipalArn",
            &["arn:aws:iam::123456789012:user/alice"],
        ),
        ("aws:SourceIp", &["10.1.2.3"]),
        ("aws:SecureTransport", &["false"]),
        ("aws:CurrentTime", &["2024-01-31T12:34:56Z"]),
        ("aws:EpochTime", &["1706704496"]),
        ("dynamodb:LeadingKeys", &["alice", "bob"]),
        ("dynamodb:Attributes", &["pk", "sk", "name"]),
        ("dynamodb:Select", &["ALL_ATTRIBUTES"]),
        ("dynamodb:ReturnValues", &["NONE"]),
    ];
    for (k, v) in pairs {
        c.set(*k, v.iter().map(|s| s.to_string()).collect());
    }
}

/// Any policy document parses or is refused with a reason, as an identity and as a
/// resource-based policy; an accepted identity policy gives the same decision for every
/// tuple through the request path's compiled form (statements by action, the context
/// limited to the keys it reads) as through the plain evaluator on the full context.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = Policy::parse_resource(text) {
        let mut c = Context::default();
        fill(&mut c);
        let caller = Caller {
            principal: "arn:aws:iam::123456789012:user/alice",
            principal_arn: "arn:aws:iam::123456789012:user/alice",
            account: "123456789012",
            cross_account: false,
        };
        for a in ACTIONS {
            for r in RESOURCES {
                let _ = evaluate_resource(&[&p], caller, a, r, &c);
            }
        }
    }
    let Ok(p) = Policy::parse(text) else {
        return;
    };
    let Ok(identity) = Identity::new("arn:aws:iam::123456789012:user/alice", vec![p]) else {
        panic!("a valid principal was refused");
    };
    let mut full = Context::default();
    fill(&mut full);
    let mut limited = identity.context(false);
    fill(&mut limited);
    for a in ACTIONS {
        for r in RESOURCES {
            assert_eq!(
                identity.evaluate(a, r, &limited),
                evaluate(&identity.policies, a, r, &full),
                "{a} on {r}"
            );
        }
    }
}

/// Any Authorization / X-Amz-Date / Date header values (the input split at the first two
/// newlines) are accepted or refused with a DynamoDB error — never a panic.
pub fn auth_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let authorization = parts.next();
    let amz_date = parts.next();
    let date = parts.next();
    let _ = crate::auth::check(authorization, amz_date, date);
    if let Some(d) = amz_date {
        if let Some(secs) = crate::auth::sigv4::parse_amz_date(d) {
            let again = crate::auth::sigv4::format_amz_date(secs);
            assert_eq!(
                crate::auth::sigv4::parse_amz_date(&again),
                Some(secs),
                "{d}"
            );
        }
    }
}
