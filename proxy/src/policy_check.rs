//! `daxlite policy-check --config FILE --key AK --action dynamodb:Query --resource ARN
//! [--context k=v]...`: the policy simulator on the command line. It prints the same JSON
//! as `POST /admin/simulate` and exits 0 when allowed, 1 when denied, 2 on an error.
//! Only identity-based policies are read (resource-based ones live in the data file:
//! ask a running daxlite's `/admin/simulate` for those).

use std::process::ExitCode;

use clap::Args;
use daxlite::auth::simulate::{self, Query};

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// The access key whose policies answer (an `[auth] credentials` entry).
    #[arg(
        long,
        conflicts_with = "principal",
        required_unless_present = "principal"
    )]
    key: Option<String>,
    /// Or the principal ARN of an entry with policies.
    #[arg(long)]
    principal: Option<String>,
    /// The action, e.g. dynamodb:Query.
    #[arg(long)]
    action: String,
    /// The resource ARN, e.g. arn:aws:dynamodb:us-east-1:000000000000:table/Music.
    #[arg(long)]
    resource: String,
    /// A condition key and value, `key=value`; a key given more than once is multivalued.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
}

/// Runs the check with `config`'s identities.
pub fn run(config: &daxlite::Config, args: PolicyCheckArgs) -> ExitCode {
    let mut context: Vec<(String, Vec<String>)> = Vec::new();
    for kv in &args.context {
        let Some((k, v)) = kv.split_once('=') else {
            eprintln!("daxlite: --context {kv:?} must be key=value");
            return ExitCode::from(2);
        };
        match context
            .iter_mut()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
        {
            Some((_, values)) => values.push(v.to_string()),
            None => context.push((k.to_string(), vec![v.to_string()])),
        }
    }
    let q = Query {
        access_key: args.key,
        principal: args.principal,
        action: args.action,
        resource: args.resource,
        context,
    };
    let subject = q.check().and_then(|()| {
        simulate::resolve(
            config.service.auth.as_deref(),
            config.service.identities.as_deref(),
            &q,
        )
    });
    let subject = match subject {
        Ok(s) => s,
        Err(m) => {
            eprintln!("daxlite: {m}");
            return ExitCode::from(2);
        }
    };
    let verdict = simulate::decide(&subject, &q, None);
    let text = serde_json::to_string_pretty(&verdict.to_json(&q)).unwrap_or_default();
    println!("{text}");
    if verdict.allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
