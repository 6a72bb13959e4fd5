//! Account-level answers: DescribeLimits (DynamoDB's default quotas) and DescribeEndpoints
//! (the regional endpoint and how long SDKs may cache it).

use serde_json::{json, Map, Value};

use crate::api::Ctx;
use crate::wire::ApiResult;

/// DynamoDB's default per-account and per-table provisioned capacity quotas.
const ACCOUNT_MAX_CAPACITY: i64 = 80_000;
const TABLE_MAX_CAPACITY: i64 = 40_000;

pub async fn describe_limits(_ctx: &Ctx, _body: &Map<String, Value>) -> ApiResult<Value> {
    Ok(json!({
        "AccountMaxReadCapacityUnits": ACCOUNT_MAX_CAPACITY,
        "AccountMaxWriteCapacityUnits": ACCOUNT_MAX_CAPACITY,
        "TableMaxReadCapacityUnits": TABLE_MAX_CAPACITY,
        "TableMaxWriteCapacityUnits": TABLE_MAX_CAPACITY,
    }))
}

pub async fn describe_endpoints(ctx: &Ctx, _body: &Map<String, Value>) -> ApiResult<Value> {
    Ok(json!({
        "Endpoints": [{
            "Address": format!("dynamodb.{}.amazonaws.com", ctx.config.region),
            "CachePeriodInMinutes": 1440,
        }]
    }))
}

#[cfg(test)]
mod tests {
    use crate::wire::Operation;
    use crate::{Engine, EngineConfig};

    #[tokio::test]
    async fn limits_and_endpoints_answer_dynamodb_shapes() {
        let e = Engine::open(EngineConfig::default()).unwrap();
        let limits: serde_json::Value = serde_json::from_slice(
            &e.call(Operation::DescribeLimits, b"{}")
                .await
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(limits["TableMaxReadCapacityUnits"], 40_000);
        assert_eq!(limits["AccountMaxWriteCapacityUnits"], 80_000);
        let endpoints: serde_json::Value = serde_json::from_slice(
            &e.call(Operation::DescribeEndpoints, b"{}")
                .await
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(
            endpoints["Endpoints"][0]["Address"],
            "dynamodb.us-east-1.amazonaws.com"
        );
        assert_eq!(endpoints["Endpoints"][0]["CachePeriodInMinutes"], 1440);
        e.close();
    }
}
