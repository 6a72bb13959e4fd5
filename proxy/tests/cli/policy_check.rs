//! `daxlite policy-check`: the simulator's JSON on stdout and its exit status — 0
//! allowed, 1 denied (explicit or implicit), 2 for an unknown key or a bad flag.

use super::daxlite;

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReadMusic","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/Music*"},{"Sid":"NoScan","Effect":"Deny","Action":"dynamodb:Scan","Resource":"*"},{"Sid":"TlsOnly","Effect":"Allow","Action":"dynamodb:PutItem","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;

fn check(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let config = dir.join("daxlite.toml");
    std::fs::write(dir.join("alice.json"), POLICY).unwrap();
    std::fs::write(
        &config,
        "[storage]\nin_memory = true\n[auth]\nverify = true\ncredentials = [\n  { access_key = \"ALICE\", secret_key = \"s\", principal = \"arn:aws:iam::123456789012:user/alice\", policies = [\"alice.json\"] },\n  { access_key = \"ADMIN\", secret_key = \"s\" },\n]\n",
    )
    .unwrap();
    let out = daxlite()
        .arg("policy-check")
        .args(["--config", config.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const MUSIC: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Music";

#[test]
fn policy_check_answers_and_exits_by_the_decision() {
    let dir = tempfile::tempdir().unwrap();
    let query = ["--key", "ALICE", "--action", "dynamodb:Query", "--resource"];
    let (code, v, _) = check(dir.path(), &[&query[..], &[MUSIC]].concat());
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["reason"], "allow");
    assert_eq!(v["statement"]["sid"], "ReadMusic");
    assert_eq!(v["statement"]["policy"], "identity-based");
    assert_eq!(v["statement"]["statement_index"], 0);

    let (code, v, _) = check(
        dir.path(),
        &[
            "--principal",
            "arn:aws:iam::123456789012:user/alice",
            "--action",
            "dynamodb:Scan",
            "--resource",
            MUSIC,
        ],
    );
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["reason"], "explicit deny");
    assert_eq!(v["statement"]["sid"], "NoScan");
    assert_eq!(v["message"], format!("User: arn:aws:iam::123456789012:user/alice is not authorized to perform: dynamodb:Scan on resource: {MUSIC} with an explicit deny in an identity-based policy"));

    let put = [
        "--key",
        "ALICE",
        "--action",
        "dynamodb:PutItem",
        "--resource",
        MUSIC,
    ];
    let (code, v, _) = check(dir.path(), &put);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["reason"], "implicit deny");
    assert_eq!(v["statement"], serde_json::Value::Null);
    let (code, v, _) = check(
        dir.path(),
        &[&put[..], &["--context", "aws:SecureTransport=true"]].concat(),
    );
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["statement"]["sid"], "TlsOnly");

    let (code, v, _) = check(
        dir.path(),
        &[
            "--key",
            "ADMIN",
            "--action",
            "dynamodb:DeleteTable",
            "--resource",
            MUSIC,
        ],
    );
    assert_eq!(code, Some(0), "{v}");
    assert!(v["note"].as_str().unwrap().contains("full access"), "{v}");

    let (code, _, err) = check(
        dir.path(),
        &[
            "--key",
            "NOBODY",
            "--action",
            "dynamodb:Query",
            "--resource",
            MUSIC,
        ],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("NOBODY"), "{err}");
    let (code, _, err) = check(
        dir.path(),
        &[&query[..], &[MUSIC, "--context", "novalue"]].concat(),
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("key=value"), "{err}");
}
