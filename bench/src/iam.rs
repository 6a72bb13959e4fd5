//! Spawn modes with authorization on (`cached-verify`, `cached-iam`, `uncached-verify`,
//! `uncached-iam`): daxlite started with `[auth] verify = true` and the bench's key
//! (`--access-key`/`--secret-key`), without policies (`-verify`: signature verification
//! only) or with one identity policy of `--policy-statements` statements (`-iam`). The
//! difference in server CPU per request between the two is what evaluating the policy
//! costs (issue 18: at most 2 µs per cache hit with 10 statements).

use std::path::{Path, PathBuf};

/// What a spawn mode's name asks for beyond the base mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `[auth] verify = true`, the key without policies (full access).
    Verify,
    /// Verify, and the key has one identity policy.
    Policies,
}

/// Splits `cached-iam` into (`cached`, Some(Policies)); names without a suffix are
/// returned unchanged.
pub fn split_mode(name: &str) -> (&str, Option<Auth>) {
    if let Some(base) = name.strip_suffix("-iam") {
        (base, Some(Auth::Policies))
    } else if let Some(base) = name.strip_suffix("-verify") {
        (base, Some(Auth::Verify))
    } else {
        (name, None)
    }
}

/// An identity policy of `n` (≥ 1) statements, every one evaluated for a GetItem of
/// `table`: `n - 1` that do not apply (another action, another table, a condition on
/// `aws:username` or on `dynamodb:LeadingKeys` that is false) and, last, the allow of
/// everything on the bench table (so the preload passes too). A LeadingKeys condition
/// makes daxlite learn the key schema, as fine-grained policies do.
pub fn policy(n: usize, table: &str) -> String {
    let mut statements: Vec<String> = (0..n.saturating_sub(1))
        .map(|i| match i % 4 {
            0 => format!(
                r#"{{"Sid":"s{i}","Effect":"Deny","Action":["dynamodb:DeleteTable","dynamodb:UpdateTable"],"Resource":"*"}}"#
            ),
            1 => format!(
                r#"{{"Sid":"s{i}","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:*:*:table/other-{i}"}}"#
            ),
            2 => format!(
                r#"{{"Sid":"s{i}","Effect":"Deny","Action":"dynamodb:*","Resource":"*","Condition":{{"StringEquals":{{"aws:username":"nobody-{i}"}}}}}}"#
            ),
            _ => format!(
                r#"{{"Sid":"s{i}","Effect":"Deny","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/{table}","Condition":{{"ForAnyValue:StringEquals":{{"dynamodb:LeadingKeys":["blocked-{i}"]}}}}}}"#
            ),
        })
        .collect();
    statements.push(format!(
        r#"{{"Sid":"bench","Effect":"Allow","Action":"dynamodb:*","Resource":["arn:aws:dynamodb:*:*:table/{table}","arn:aws:dynamodb:*:*:table/{table}/index/*"]}}"#
    ));
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

/// The config file of an auth mode (TOML; the policy inline as a literal string).
pub fn config_text(auth: Auth, access_key: &str, secret_key: &str, policy: &str) -> String {
    let extra = match auth {
        Auth::Verify => String::new(),
        Auth::Policies => format!(
            r#", principal = "arn:aws:iam::000000000000:user/bench", policies = ['{policy}']"#
        ),
    };
    format!(
        "[auth]\nverify = true\ncredentials = [{{ access_key = {access_key:?}, secret_key = {secret_key:?}{extra} }}]\n"
    )
}

/// Writes the config of an auth mode into `dir`, named after the mode.
pub fn write_config(dir: &Path, mode: &str, text: &str) -> Result<PathBuf, String> {
    let path = dir.join(format!("daxlite-bench-{}-{mode}.toml", std::process::id()));
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_split_and_policies_have_the_asked_statements() {
        assert_eq!(split_mode("cached-iam"), ("cached", Some(Auth::Policies)));
        assert_eq!(
            split_mode("uncached-verify"),
            ("uncached", Some(Auth::Verify))
        );
        assert_eq!(split_mode("cached"), ("cached", None));
        for n in [1, 4, 10] {
            let v: serde_json::Value = serde_json::from_str(&policy(n, "t")).unwrap_or_default();
            let list = v["Statement"].as_array().cloned().unwrap_or_default();
            assert_eq!(list.len(), n);
            assert_eq!(list[n - 1]["Sid"], "bench");
        }
        let text = config_text(Auth::Policies, "AK", "SK", &policy(3, "t"));
        assert!(text.contains("policies = ['{\"Version\""), "{text}");
        assert!(!config_text(Auth::Verify, "AK", "SK", "").contains("policies"));
    }
}
