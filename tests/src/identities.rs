//! Servers with IAM-style identities for the authorization tests (`iam`, `iam_resource`):
//! a verifying server whose admin key `AKIDTEST` has full access beside identities with
//! policies, and SDK clients signing as any of those keys.

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::Client;
use daxlite::config::RawAuth;

use crate::{Mode, TestServer};

/// A client of the server at `url` signing with `access_key` (secret `secret`), no retries.
pub fn client_with(url: &str, access_key: &str) -> Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(access_key, "secret", None, None, "test"))
        .endpoint_url(url)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// A verifying server: `AKIDTEST` (the harness's key) has full access; each
/// `(access_key, principal, policies)` is an identity with policies. `account`, when
/// given, is the engine's account (the one in its table ARNs).
pub async fn server_with_identities(
    mode: Mode,
    identities: &[(&str, &str, Vec<String>)],
    account: Option<&str>,
) -> TestServer {
    TestServer::start_with(config_with_identities(mode, identities, account), None).await
}

/// The config [`server_with_identities`] starts.
pub fn config_with_identities(
    mode: Mode,
    identities: &[(&str, &str, Vec<String>)],
    account: Option<&str>,
) -> daxlite::Config {
    let mut creds = vec![serde_json::json!({"access_key": "AKIDTEST", "secret_key": "secret"})];
    for (ak, principal, policies) in identities {
        creds.push(serde_json::json!({
            "access_key": ak, "secret_key": "secret", "principal": principal, "policies": policies
        }));
    }
    let raw: RawAuth =
        serde_json::from_value(serde_json::json!({"verify": true, "credentials": creds}))
            .expect("auth section");
    let auth = raw.validate().expect("valid policies");
    let mut config = mode.config();
    if let Some(account) = account {
        config.engine.account = account.into();
    }
    config.service.auth = auth.keys;
    config.service.identities = auth.identities;
    config
}
