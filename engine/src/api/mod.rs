//! The operations: one exhaustive `match` over [`Operation`] sends each request to the
//! module that implements it; operations not built yet answer UnknownOperationException,
//! exactly as DynamoDB answers a target it does not know.

pub mod account;
pub mod batch;
pub mod item;
pub mod query;
pub mod streams;
pub mod table;
#[cfg(test)]
pub(crate) mod testkit;
pub mod transact;
pub mod ttl;

use std::sync::Arc;

use redb::ReadTransaction;
use serde_json::Value;

use crate::catalog::{self, TableDef, TableStatus};
use crate::clock::Clock;
use crate::config::EngineConfig;
use crate::storage::Store;
use crate::wire::shape::parse_body;
use crate::wire::{ApiError, ApiResult, ErrorCode, Operation};

/// What every operation needs: the store, the clock and the settings.
pub struct Ctx {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: EngineConfig,
}

impl Ctx {
    pub fn now_ms(&self) -> i64 {
        self.clock.now_millis()
    }

    /// A table that exists (in any state but gone).
    pub fn visible_table(
        &self,
        txn: &ReadTransaction,
        name: &str,
        now: i64,
    ) -> ApiResult<Option<TableDef>> {
        Ok(catalog::load(txn, name)?.filter(|d| !d.is_gone(now, self.config.delete_delay_ms)))
    }

    /// A table the data plane may use: ACTIVE or UPDATING. CREATING and DELETING tables
    /// answer ResourceNotFoundException, as DynamoDB does.
    pub fn data_table(&self, txn: &ReadTransaction, name: &str, now: i64) -> ApiResult<TableDef> {
        match self.visible_table(txn, name, now)? {
            Some(def) if matches!(def.status(now), TableStatus::Active | TableStatus::Updating) => {
                Ok(def)
            }
            _ => Err(ApiError::resource_not_found("Requested resource not found")),
        }
    }

    /// The control plane's not-found error.
    pub fn table_not_found(&self, name: &str) -> ApiError {
        ApiError::resource_not_found(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }
}

fn not_built() -> ApiError {
    ApiError::bare(ErrorCode::UnknownOperationException)
}

/// Runs one operation on a JSON request body and returns the JSON response body.
pub async fn dispatch(ctx: &Ctx, op: Operation, body: &[u8]) -> ApiResult<Vec<u8>> {
    let req = parse_body(body)?;
    let out: Value = match op {
        Operation::CreateTable => table::create_table(ctx, &req).await?,
        Operation::DescribeTable => table::describe_table(ctx, &req).await?,
        Operation::ListTables => table::list_tables(ctx, &req).await?,
        Operation::UpdateTable => table::update_table(ctx, &req).await?,
        Operation::DeleteTable => table::delete_table(ctx, &req).await?,
        Operation::TagResource => table::tag_resource(ctx, &req).await?,
        Operation::UntagResource => table::untag_resource(ctx, &req).await?,
        Operation::ListTagsOfResource => table::list_tags_of_resource(ctx, &req).await?,
        // GetItem answers with the stored item bytes as they are (no re-serialisation).
        Operation::GetItem => return item::get_item(ctx, &req).await,
        Operation::PutItem => item::put_item(ctx, &req).await?,
        Operation::UpdateItem => item::update_item(ctx, &req).await?,
        Operation::DeleteItem => item::delete_item(ctx, &req).await?,
        Operation::Query => query::query(ctx, &req).await?,
        Operation::Scan => query::scan(ctx, &req).await?,
        Operation::BatchGetItem => batch::batch_get_item(ctx, &req).await?,
        Operation::BatchWriteItem => batch::batch_write_item(ctx, &req).await?,
        Operation::TransactGetItems => transact::transact_get_items(ctx, &req).await?,
        Operation::TransactWriteItems => transact::transact_write_items(ctx, &req).await?,
        Operation::UpdateTimeToLive => ttl::update_time_to_live(ctx, &req).await?,
        Operation::DescribeTimeToLive => ttl::describe_time_to_live(ctx, &req).await?,
        Operation::ListStreams => streams::list_streams(ctx, &req).await?,
        Operation::DescribeStream => streams::describe_stream(ctx, &req).await?,
        Operation::GetShardIterator => streams::get_shard_iterator(ctx, &req).await?,
        Operation::GetRecords => streams::get_records(ctx, &req).await?,
        Operation::DescribeLimits => account::describe_limits(ctx, &req).await?,
        Operation::DescribeEndpoints => account::describe_endpoints(ctx, &req).await?,
        Operation::ExecuteStatement => crate::partiql::execute_statement(ctx, &req).await?,
        Operation::BatchExecuteStatement => {
            crate::partiql::batch_execute_statement(ctx, &req).await?
        }
        Operation::ExecuteTransaction => crate::partiql::execute_transaction(ctx, &req).await?,
        Operation::CreateBackup
        | Operation::DescribeBackup
        | Operation::DeleteBackup
        | Operation::ListBackups
        | Operation::RestoreTableFromBackup
        | Operation::RestoreTableToPointInTime
        | Operation::DescribeContinuousBackups
        | Operation::UpdateContinuousBackups
        | Operation::ExportTableToPointInTime
        | Operation::DescribeExport
        | Operation::ListExports
        | Operation::ImportTable
        | Operation::DescribeImport
        | Operation::ListImports
        | Operation::CreateGlobalTable
        | Operation::DescribeGlobalTable
        | Operation::DescribeGlobalTableSettings
        | Operation::ListGlobalTables
        | Operation::UpdateGlobalTable
        | Operation::UpdateGlobalTableSettings
        | Operation::DescribeTableReplicaAutoScaling
        | Operation::UpdateTableReplicaAutoScaling
        | Operation::DescribeContributorInsights
        | Operation::ListContributorInsights
        | Operation::UpdateContributorInsights
        | Operation::DescribeKinesisStreamingDestination
        | Operation::EnableKinesisStreamingDestination
        | Operation::DisableKinesisStreamingDestination
        | Operation::UpdateKinesisStreamingDestination
        | Operation::GetResourcePolicy
        | Operation::PutResourcePolicy
        | Operation::DeleteResourcePolicy => return Err(not_built()),
    };
    serde_json::to_vec(&out).map_err(crate::storage::internal)
}

/// Whether the engine answers this operation (the rest answer UnknownOperationException).
pub fn is_built(op: Operation) -> bool {
    matches!(
        op,
        Operation::CreateTable
            | Operation::DescribeTable
            | Operation::ListTables
            | Operation::UpdateTable
            | Operation::DeleteTable
            | Operation::TagResource
            | Operation::UntagResource
            | Operation::ListTagsOfResource
            | Operation::GetItem
            | Operation::PutItem
            | Operation::UpdateItem
            | Operation::DeleteItem
            | Operation::Query
            | Operation::Scan
            | Operation::BatchGetItem
            | Operation::BatchWriteItem
            | Operation::TransactGetItems
            | Operation::TransactWriteItems
            | Operation::DescribeLimits
            | Operation::DescribeEndpoints
            | Operation::UpdateTimeToLive
            | Operation::DescribeTimeToLive
            | Operation::ListStreams
            | Operation::DescribeStream
            | Operation::GetShardIterator
            | Operation::GetRecords
            | Operation::ExecuteStatement
            | Operation::BatchExecuteStatement
            | Operation::ExecuteTransaction
    )
}
