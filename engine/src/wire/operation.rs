//! The one table of operations: every DynamoDB and DynamoDB Streams operation daxlite
//! knows, with its kind and whether the cache may serve it. Dispatch everywhere is an
//! exhaustive `match` over [`Operation`], so adding a row shows every place to touch.

/// What an operation does, as the proxy and metrics see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// Reads items (GetItem, Query, ...).
    Read,
    /// Writes items.
    Write,
    /// Tables, indexes, backups, tags and other control-plane calls.
    Control,
    /// DynamoDB Streams (`DynamoDBStreams_20120810.*`).
    Stream,
    /// Application Auto Scaling (`AnyScaleFrontendService.*`), served on the same port.
    Autoscaling,
    /// TransactGetItems / TransactWriteItems / ExecuteTransaction.
    Transaction,
}

/// The `X-Amz-Target` prefix of DynamoDB's data and control plane.
pub const DYNAMODB_PREFIX: &str = "DynamoDB_20120810";
/// The `X-Amz-Target` prefix of DynamoDB Streams.
pub const STREAMS_PREFIX: &str = "DynamoDBStreams_20120810";
/// The `X-Amz-Target` prefix of Application Auto Scaling (API 2016-02-06).
pub const AUTOSCALING_PREFIX: &str = "AnyScaleFrontendService";

macro_rules! operations {
    ($( $name:ident : $prefix:ident, $kind:ident, $cacheable:literal; )*) => {
        /// Every operation daxlite recognises in `X-Amz-Target`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation { $( $name, )* }

        impl Operation {
            /// All operations, in table order.
            pub const ALL: &'static [Operation] = &[ $( Operation::$name, )* ];

            /// The operation's name as it appears after the `.` of `X-Amz-Target`.
            pub fn name(self) -> &'static str {
                match self { $( Operation::$name => stringify!($name), )* }
            }

            /// The target prefix (API version) the operation belongs to.
            pub fn prefix(self) -> &'static str {
                match self { $( Operation::$name => $prefix, )* }
            }

            pub fn kind(self) -> OpKind {
                match self { $( Operation::$name => OpKind::$kind, )* }
            }

            /// Whether an eventually consistent call may be answered from the cache.
            pub fn cacheable(self) -> bool {
                match self { $( Operation::$name => $cacheable, )* }
            }

            fn from_parts(prefix: &str, name: &str) -> Option<Operation> {
                match name {
                    $( stringify!($name) if prefix == $prefix => Some(Operation::$name), )*
                    _ => None,
                }
            }
        }
    };
}

operations! {
    // items
    GetItem: DYNAMODB_PREFIX, Read, true;
    PutItem: DYNAMODB_PREFIX, Write, false;
    UpdateItem: DYNAMODB_PREFIX, Write, false;
    DeleteItem: DYNAMODB_PREFIX, Write, false;
    Query: DYNAMODB_PREFIX, Read, true;
    Scan: DYNAMODB_PREFIX, Read, true;
    BatchGetItem: DYNAMODB_PREFIX, Read, true;
    BatchWriteItem: DYNAMODB_PREFIX, Write, false;
    TransactGetItems: DYNAMODB_PREFIX, Transaction, false;
    TransactWriteItems: DYNAMODB_PREFIX, Transaction, false;
    // PartiQL
    ExecuteStatement: DYNAMODB_PREFIX, Read, false;
    BatchExecuteStatement: DYNAMODB_PREFIX, Read, false;
    ExecuteTransaction: DYNAMODB_PREFIX, Transaction, false;
    // tables
    CreateTable: DYNAMODB_PREFIX, Control, false;
    DescribeTable: DYNAMODB_PREFIX, Control, false;
    ListTables: DYNAMODB_PREFIX, Control, false;
    UpdateTable: DYNAMODB_PREFIX, Control, false;
    DeleteTable: DYNAMODB_PREFIX, Control, false;
    DescribeLimits: DYNAMODB_PREFIX, Control, false;
    DescribeEndpoints: DYNAMODB_PREFIX, Control, false;
    // time to live
    UpdateTimeToLive: DYNAMODB_PREFIX, Control, false;
    DescribeTimeToLive: DYNAMODB_PREFIX, Control, false;
    // tags
    TagResource: DYNAMODB_PREFIX, Control, false;
    UntagResource: DYNAMODB_PREFIX, Control, false;
    ListTagsOfResource: DYNAMODB_PREFIX, Control, false;
    // backups and point-in-time recovery
    CreateBackup: DYNAMODB_PREFIX, Control, false;
    DescribeBackup: DYNAMODB_PREFIX, Control, false;
    DeleteBackup: DYNAMODB_PREFIX, Control, false;
    ListBackups: DYNAMODB_PREFIX, Control, false;
    RestoreTableFromBackup: DYNAMODB_PREFIX, Control, false;
    RestoreTableToPointInTime: DYNAMODB_PREFIX, Control, false;
    DescribeContinuousBackups: DYNAMODB_PREFIX, Control, false;
    UpdateContinuousBackups: DYNAMODB_PREFIX, Control, false;
    // export and import
    ExportTableToPointInTime: DYNAMODB_PREFIX, Control, false;
    DescribeExport: DYNAMODB_PREFIX, Control, false;
    ListExports: DYNAMODB_PREFIX, Control, false;
    ImportTable: DYNAMODB_PREFIX, Control, false;
    DescribeImport: DYNAMODB_PREFIX, Control, false;
    ListImports: DYNAMODB_PREFIX, Control, false;
    // global tables, insights, kinesis, resource policies, autoscaling
    CreateGlobalTable: DYNAMODB_PREFIX, Control, false;
    DescribeGlobalTable: DYNAMODB_PREFIX, Control, false;
    DescribeGlobalTableSettings: DYNAMODB_PREFIX, Control, false;
    ListGlobalTables: DYNAMODB_PREFIX, Control, false;
    UpdateGlobalTable: DYNAMODB_PREFIX, Control, false;
    UpdateGlobalTableSettings: DYNAMODB_PREFIX, Control, false;
    DescribeTableReplicaAutoScaling: DYNAMODB_PREFIX, Control, false;
    UpdateTableReplicaAutoScaling: DYNAMODB_PREFIX, Control, false;
    DescribeContributorInsights: DYNAMODB_PREFIX, Control, false;
    ListContributorInsights: DYNAMODB_PREFIX, Control, false;
    UpdateContributorInsights: DYNAMODB_PREFIX, Control, false;
    DescribeKinesisStreamingDestination: DYNAMODB_PREFIX, Control, false;
    EnableKinesisStreamingDestination: DYNAMODB_PREFIX, Control, false;
    DisableKinesisStreamingDestination: DYNAMODB_PREFIX, Control, false;
    UpdateKinesisStreamingDestination: DYNAMODB_PREFIX, Control, false;
    GetResourcePolicy: DYNAMODB_PREFIX, Control, false;
    PutResourcePolicy: DYNAMODB_PREFIX, Control, false;
    DeleteResourcePolicy: DYNAMODB_PREFIX, Control, false;
    // DynamoDB Streams
    ListStreams: STREAMS_PREFIX, Stream, false;
    DescribeStream: STREAMS_PREFIX, Stream, false;
    GetShardIterator: STREAMS_PREFIX, Stream, false;
    GetRecords: STREAMS_PREFIX, Stream, false;
    // Application Auto Scaling (target tracking of DynamoDB capacity)
    RegisterScalableTarget: AUTOSCALING_PREFIX, Autoscaling, false;
    DescribeScalableTargets: AUTOSCALING_PREFIX, Autoscaling, false;
    DeregisterScalableTarget: AUTOSCALING_PREFIX, Autoscaling, false;
    PutScalingPolicy: AUTOSCALING_PREFIX, Autoscaling, false;
    DescribeScalingPolicies: AUTOSCALING_PREFIX, Autoscaling, false;
    DeleteScalingPolicy: AUTOSCALING_PREFIX, Autoscaling, false;
    DescribeScalingActivities: AUTOSCALING_PREFIX, Autoscaling, false;
}

impl Operation {
    /// Parses an `X-Amz-Target` header value such as `DynamoDB_20120810.GetItem`.
    pub fn from_target(target: &str) -> Option<Operation> {
        let (prefix, name) = target.split_once('.')?;
        Operation::from_parts(prefix, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip() {
        for op in Operation::ALL {
            let target = format!("{}.{}", op.prefix(), op.name());
            assert_eq!(Operation::from_target(&target), Some(*op));
        }
        assert_eq!(Operation::from_target("DynamoDB_20120810.Nope"), None);
        assert_eq!(
            Operation::from_target("DynamoDB_20120810.ListStreams"),
            None
        );
        assert_eq!(
            Operation::from_target("DynamoDBStreams_20120810.ListStreams"),
            Some(Operation::ListStreams)
        );
        assert_eq!(Operation::from_target("GetItem"), None);
        assert_eq!(
            Operation::from_target("AnyScaleFrontendService.PutScalingPolicy"),
            Some(Operation::PutScalingPolicy)
        );
        assert_eq!(
            Operation::from_target("DynamoDB_20120810.PutScalingPolicy"),
            None
        );
        assert!(Operation::GetItem.cacheable() && !Operation::PutItem.cacheable());
    }
}
