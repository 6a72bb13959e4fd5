//! The operations: one exhaustive `match` over [`Operation`] sends each request to the
//! module that implements it; operations not built yet answer UnknownOperationException,
//! exactly as DynamoDB answers a target it does not know.

pub mod account;
pub mod backup;
pub mod batch;
pub mod export;
pub mod import;
pub mod item;
pub mod kinesis;
pub mod legacy_global;
pub mod query;
pub mod streams;
pub mod table;
pub mod table_arn;
#[cfg(test)]
pub(crate) mod testkit;
pub mod transact;
pub mod ttl;

use serde_json::Value;

use crate::autoscaling::api as autoscaling;
use crate::partiql;

pub use crate::ctx::Ctx;
use crate::wire::shape::parse_body;
use crate::wire::{ApiError, ApiResult, ErrorCode, Operation};

fn not_built() -> ApiError {
    ApiError::bare(ErrorCode::UnknownOperationException)
}

/// The one routing list. Each operation appears exactly once: under `raw` (the handler
/// returns the response bytes itself), under `json` (the handler returns a JSON value), or
/// under `not_built` (UnknownOperationException). [`dispatch`] and [`is_built`] are both
/// generated from it as exhaustive matches, so a new row in the operation table
/// (`wire/operation.rs`) does not compile until it is placed here.
macro_rules! routes {
    (
        raw { $( $raw:ident => $rmod:ident :: $rfn:ident, )* }
        json { $( $op:ident => $module:ident :: $func:ident, )* }
        not_built { $( $nb:ident, )* }
    ) => {
        /// Runs one operation on a JSON request body and returns the JSON response body.
        pub async fn dispatch(ctx: &Ctx, op: Operation, body: &[u8]) -> ApiResult<Vec<u8>> {
            let mut req = parse_body(body)?;
            table_arn::resolve(op, &mut req, &ctx.config.region, &ctx.config.account);
            let out: Value = match op {
                $( Operation::$raw => return $rmod::$rfn(ctx, &req).await, )*
                $( Operation::$op => $module::$func(ctx, &req).await?, )*
                $( Operation::$nb )|* => return Err(not_built()),
            };
            serde_json::to_vec(&out).map_err(crate::storage::internal)
        }

        /// Whether the engine answers this operation (the rest answer
        /// UnknownOperationException).
        pub fn is_built(op: Operation) -> bool {
            match op {
                $( Operation::$raw => true, )*
                $( Operation::$op => true, )*
                $( Operation::$nb )|* => false,
            }
        }
    };
}

routes! {
    raw {
        // GetItem answers with the stored item bytes as they are (no re-serialisation).
        GetItem => item::get_item,
        // Pages without filter or projection carry the stored item bytes as they are.
        Query => query::query,
        Scan => query::scan,
        // SELECT pages copy stored rows as they are when nothing filters or projects them.
        ExecuteStatement => partiql::execute_statement,
    }
    json {
        CreateTable => table::create_table,
        DescribeTable => table::describe_table,
        ListTables => table::list_tables,
        UpdateTable => table::update_table,
        DeleteTable => table::delete_table,
        TagResource => table::tag_resource,
        UntagResource => table::untag_resource,
        ListTagsOfResource => table::list_tags_of_resource,
        PutResourcePolicy => table::put_resource_policy,
        GetResourcePolicy => table::get_resource_policy,
        DeleteResourcePolicy => table::delete_resource_policy,
        PutItem => item::put_item,
        UpdateItem => item::update_item,
        DeleteItem => item::delete_item,
        BatchGetItem => batch::batch_get_item,
        BatchWriteItem => batch::batch_write_item,
        TransactGetItems => transact::transact_get_items,
        TransactWriteItems => transact::transact_write_items,
        UpdateTimeToLive => ttl::update_time_to_live,
        DescribeTimeToLive => ttl::describe_time_to_live,
        ListStreams => streams::list_streams,
        DescribeStream => streams::describe_stream,
        GetShardIterator => streams::get_shard_iterator,
        GetRecords => streams::get_records,
        DescribeLimits => account::describe_limits,
        DescribeEndpoints => account::describe_endpoints,
        BatchExecuteStatement => partiql::batch_execute_statement,
        ExecuteTransaction => partiql::execute_transaction,
        CreateBackup => backup::create_backup,
        DescribeBackup => backup::describe_backup,
        DeleteBackup => backup::delete_backup,
        ListBackups => backup::list_backups,
        RestoreTableFromBackup => backup::restore_table_from_backup,
        RestoreTableToPointInTime => backup::restore_table_to_point_in_time,
        DescribeContinuousBackups => backup::describe_continuous_backups,
        UpdateContinuousBackups => backup::update_continuous_backups,
        ExportTableToPointInTime => export::export_table_to_point_in_time,
        DescribeExport => export::describe_export,
        ListExports => export::list_exports,
        ImportTable => import::import_table,
        DescribeImport => import::describe_import,
        ListImports => import::list_imports,
        DescribeKinesisStreamingDestination => kinesis::describe_kinesis_streaming_destination,
        EnableKinesisStreamingDestination => kinesis::enable_kinesis_streaming_destination,
        DisableKinesisStreamingDestination => kinesis::disable_kinesis_streaming_destination,
        UpdateKinesisStreamingDestination => kinesis::update_kinesis_streaming_destination,
        RegisterScalableTarget => autoscaling::register_scalable_target,
        DescribeScalableTargets => autoscaling::describe_scalable_targets,
        DeregisterScalableTarget => autoscaling::deregister_scalable_target,
        PutScalingPolicy => autoscaling::put_scaling_policy,
        DescribeScalingPolicies => autoscaling::describe_scaling_policies,
        DeleteScalingPolicy => autoscaling::delete_scaling_policy,
        DescribeScalingActivities => autoscaling::describe_scaling_activities,
        CreateGlobalTable => legacy_global::create_global_table,
        DescribeGlobalTable => legacy_global::describe_global_table,
        DescribeGlobalTableSettings => legacy_global::describe_global_table_settings,
        ListGlobalTables => legacy_global::list_global_tables,
        UpdateGlobalTable => legacy_global::update_global_table,
        UpdateGlobalTableSettings => legacy_global::update_global_table_settings,
    }
    not_built {
        DescribeTableReplicaAutoScaling,
        UpdateTableReplicaAutoScaling,
        DescribeContributorInsights,
        ListContributorInsights,
        UpdateContributorInsights,
    }
}
