//! The throttle errors of CAPACITY.md §2.3: which limit was hit, on which arm, and the
//! exact exception, message and `ThrottlingReasons` DynamoDB answers with (the member is
//! `throttlingReasons`, lower-case, on ThrottlingException).

use serde_json::json;

use crate::wire::{ApiError, ErrorCode};

/// Read or write capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    Read,
    Write,
}

/// The limit a request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A provisioned table's or GSI's token bucket.
    Provisioned,
    /// An on-demand table's or GSI's `OnDemandThroughput` maximum.
    OnDemandMax,
    /// The per-table account quota of on-demand tables (40,000 units/s, table + GSIs).
    Account,
    /// One partition-key value's limit on a provisioned table (3,000 RCU / 1,000 WCU).
    KeyRange,
    /// The same on an on-demand table, or its "twice the previous peak" limit.
    OnDemandKeyRange,
}

/// One throttle: the limit, the axis, and the GSI (`None`: the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub limit: Limit,
    pub axis: Axis,
    pub index: Option<String>,
}

pub const TABLE_PROVISIONED: &str = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.";
pub const INDEX_PROVISIONED: &str = "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API";
pub const ON_DEMAND_MAX: &str =
    "Throughput exceeds the maximum OnDemandThroughput configured on table or index";
pub const HOT_KEY: &str = "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html.";
pub const ACCOUNT_LIMIT: &str = "Throughput exceeds the current throughput limit for your account. To request a limit increase, contact AWS Support at https://aws.amazon.com/support.";

impl Throttle {
    /// `{Table|Index}{Read|Write}{ProvisionedThroughputExceeded|...}`.
    pub fn reason(&self) -> String {
        let arm = if self.index.is_some() {
            "Index"
        } else {
            "Table"
        };
        let axis = match self.axis {
            Axis::Read => "Read",
            Axis::Write => "Write",
        };
        let what = match self.limit {
            Limit::Provisioned => "ProvisionedThroughputExceeded",
            Limit::OnDemandMax => "MaxOnDemandThroughputExceeded",
            Limit::Account => "AccountLimitExceeded",
            Limit::KeyRange | Limit::OnDemandKeyRange => "KeyRangeThroughputExceeded",
        };
        format!("{arm}{axis}{what}")
    }

    /// The table's ARN, or the index's (`…/index/<I>`).
    pub fn resource(&self, table_arn: &str) -> String {
        match &self.index {
            Some(i) => format!("{table_arn}/index/{i}"),
            None => table_arn.to_string(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self.limit {
            Limit::Provisioned | Limit::KeyRange => {
                ErrorCode::ProvisionedThroughputExceededException
            }
            Limit::OnDemandMax | Limit::OnDemandKeyRange => ErrorCode::ThrottlingException,
            Limit::Account => ErrorCode::RequestLimitExceeded,
        }
    }

    pub fn message(&self) -> &'static str {
        match (self.limit, &self.index) {
            (Limit::Provisioned | Limit::KeyRange, None) => TABLE_PROVISIONED,
            (Limit::KeyRange, Some(_)) => INDEX_PROVISIONED,
            (Limit::OnDemandKeyRange, _) => HOT_KEY,
            (Limit::Provisioned, Some(_)) => INDEX_PROVISIONED,
            (Limit::OnDemandMax, _) => ON_DEMAND_MAX,
            (Limit::Account, _) => ACCOUNT_LIMIT,
        }
    }

    /// The error a request answers with.
    pub fn error(&self, table_arn: &str) -> ApiError {
        let member = match self.code() {
            ErrorCode::ThrottlingException => "throttlingReasons",
            _ => "ThrottlingReasons",
        };
        ApiError::new(self.code(), self.message()).with_extra(
            member,
            json!([{"reason": self.reason(), "resource": self.resource(table_arn)}]),
        )
    }

    /// A transaction's cancellation reason code for this throttle.
    pub fn cancellation_code(&self) -> &'static str {
        match self.limit {
            Limit::Provisioned | Limit::KeyRange => "ProvisionedThroughputExceeded",
            _ => "ThrottlingError",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_codes_and_members() {
        let t = Throttle {
            limit: Limit::Provisioned,
            axis: Axis::Write,
            index: Some("g".into()),
        };
        assert_eq!(t.reason(), "IndexWriteProvisionedThroughputExceeded");
        assert_eq!(t.resource("arn:t"), "arn:t/index/g");
        let body: serde_json::Value =
            serde_json::from_slice(&t.error("arn:t").to_body()).expect("json");
        assert_eq!(
            body["ThrottlingReasons"][0]["reason"],
            "IndexWriteProvisionedThroughputExceeded"
        );
        assert_eq!(body["message"], INDEX_PROVISIONED);
        let od = Throttle {
            limit: Limit::OnDemandMax,
            axis: Axis::Read,
            index: None,
        };
        let body: serde_json::Value =
            serde_json::from_slice(&od.error("arn:t").to_body()).expect("json");
        assert_eq!(
            body["__type"],
            "com.amazonaws.dynamodb.v20120810#ThrottlingException"
        );
        assert_eq!(
            body["throttlingReasons"][0]["reason"],
            "TableReadMaxOnDemandThroughputExceeded"
        );
        assert_eq!(od.cancellation_code(), "ThrottlingError");
    }
}
