//! ImportTable, DescribeImport and ListImports. ImportTable checks the request (shapes,
//! TableCreationParameters with CreateTable's own rules), answers an identical replay of
//! a running import with that import (only a different table conflicts, as measured on
//! DynamoDB), creates the table CREATING, records the import IN_PROGRESS and leaves the
//! loading to the job (`import::job`). DYNAMODB_JSON, ION and CSV, uncompressed, GZIP
//! or ZSTD, are all built.

use serde_json::{json, Map, Value};

use crate::api::backup::seconds;
use crate::api::Ctx;
use crate::catalog;
use crate::import::{self, ImportMeta, ImportStatus};
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};

/// The log group DynamoDB reports for every import.
fn log_group(ctx: &Ctx) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:/aws-dynamodb/imports:*",
        ctx.config.region, ctx.config.account
    )
}

fn bucket_source(meta: &ImportMeta) -> Value {
    let mut s = Map::new();
    s.insert("S3Bucket".into(), json!(meta.bucket));
    if let Some(o) = &meta.bucket_owner {
        s.insert("S3BucketOwner".into(), json!(o));
    }
    if let Some(p) = &meta.key_prefix {
        s.insert("S3KeyPrefix".into(), json!(p));
    }
    Value::Object(s)
}

/// ImportTableDescription. Counters stay 0 until the import ends; EndTime, failure and
/// ProcessedSizeBytes appear only then.
fn description_json(ctx: &Ctx, meta: &ImportMeta) -> Value {
    let done = meta.status != ImportStatus::InProgress;
    let mut d = Map::new();
    d.insert("ImportArn".into(), json!(meta.arn));
    d.insert("ImportStatus".into(), json!(meta.status.as_str()));
    d.insert("TableArn".into(), json!(meta.table_arn));
    d.insert("TableId".into(), json!(meta.table_id));
    d.insert("ClientToken".into(), json!(meta.client_token));
    d.insert("S3BucketSource".into(), bucket_source(meta));
    d.insert(
        "ErrorCount".into(),
        json!(if done { meta.errors } else { 0 }),
    );
    d.insert("CloudWatchLogGroupArn".into(), json!(log_group(ctx)));
    d.insert("InputFormat".into(), json!(meta.format));
    if let Some(o) = &meta.format_options {
        d.insert("InputFormatOptions".into(), o.clone());
    }
    d.insert("InputCompressionType".into(), json!(meta.compression));
    d.insert("TableCreationParameters".into(), meta.creation.clone());
    d.insert("StartTime".into(), json!(seconds(meta.start_ms)));
    if let Some(end) = meta.end_ms {
        d.insert("EndTime".into(), json!(seconds(end)));
    }
    if done && meta.processed_bytes > 0 {
        d.insert("ProcessedSizeBytes".into(), json!(meta.processed_bytes));
    }
    let (processed, imported) = if done {
        (meta.processed_items, meta.imported_items)
    } else {
        (0, 0)
    };
    d.insert("ProcessedItemCount".into(), json!(processed));
    d.insert("ImportedItemCount".into(), json!(imported));
    if let Some(c) = &meta.failure_code {
        d.insert("FailureCode".into(), json!(c));
    }
    if let Some(m) = &meta.failure_message {
        d.insert("FailureMessage".into(), json!(m));
    }
    Value::Object(d)
}

/// The members of TableCreationParameters CreateTable's checks see.
const CREATION_MEMBERS: &[&str] = &[
    "TableName",
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "OnDemandThroughput",
    "SSESpecification",
    "GlobalSecondaryIndexes",
];

pub async fn import_table(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let token = o.str("ClientToken")?;
    let source = o.obj("S3BucketSource")?;
    let format = o.str("InputFormat")?;
    let options = o.obj("InputFormatOptions")?;
    let compression = o.str("InputCompressionType")?;
    let params = o.obj("TableCreationParameters")?;
    let (bucket, prefix, owner) = match source {
        Some(s) => (
            s.str("S3Bucket")?,
            s.str("S3KeyPrefix")?,
            s.str("S3BucketOwner")?,
        ),
        None => (None, None, None),
    };
    let csv = match options {
        Some(opts) => opts.obj("Csv")?,
        None => None,
    };
    let (delimiter, header) = match csv {
        Some(c) => (c.str("Delimiter")?, c.str_list("HeaderList")?),
        None => (None, None),
    };
    let mut v = Violations::new();
    match token {
        None => v.not_null("clientToken"),
        Some(t) if t.is_empty() || t.contains('$') => v.push(
            Some(t),
            "clientToken",
            "Member must satisfy regular expression pattern: ^[^\\$]+$",
        ),
        Some(_) => {}
    }
    match (source, bucket) {
        (None, _) => v.not_null("s3BucketSource"),
        (Some(_), None) => v.not_null("s3BucketSource.s3Bucket"),
        (Some(_), Some(b)) => v.length(b, "s3BucketSource.s3Bucket", 0, 255),
    }
    if let Some(p) = prefix {
        v.length(p, "s3BucketSource.s3KeyPrefix", 0, 1024);
    }
    match format {
        None => v.not_null("inputFormat"),
        Some(f) => v.enum_value(f, "inputFormat", &["DYNAMODB_JSON", "ION", "CSV"]),
    }
    if let Some(c) = compression {
        v.enum_value(c, "inputCompressionType", &["GZIP", "ZSTD", "NONE"]);
    }
    if let Some(d) = delimiter {
        let ok = d.chars().count() == 1 && d.chars().all(|c| ",;:|\t ".contains(c));
        if !ok {
            v.push(
                Some(d),
                "inputFormatOptions.csv.delimiter",
                "Member must satisfy regular expression pattern: [,;:|\\t ]",
            );
        }
    }
    if let Some(h) = &header {
        if h.is_empty() || h.len() > 255 {
            v.push(
                Some(&format!("[{}]", h.join(", "))),
                "inputFormatOptions.csv.headerList",
                "Member must have length between 1 and 255",
            );
        }
    }
    if params.is_none() {
        v.not_null("tableCreationParameters");
    }
    v.finish()?;
    let format = format.unwrap_or_default();
    if options.is_some() && format != "CSV" {
        return Err(ApiError::validation(
            "InputFormatOptions may only be given with InputFormat CSV",
        ));
    }
    let compression = compression.unwrap_or("NONE");
    let creation: Map<String, Value> = params
        .map(|p| {
            p.0.iter()
                .filter(|(k, _)| CREATION_MEMBERS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let now = ctx.now_ms();
    let mut def = crate::api::table::table_def(ctx, &creation, now)?;
    // CREATING until the job has loaded every object.
    def.active_at_ms = i64::MAX;
    let (region, account) = (&ctx.config.region, &ctx.config.account);
    let id = crate::backup::new_id(now);
    let meta = ImportMeta {
        arn: format!("{}/import/{id}", def.arn(region, account)),
        id,
        status: ImportStatus::InProgress,
        table_name: def.name.clone(),
        table_arn: def.arn(region, account),
        table_id: def.uuid.clone(),
        client_token: token.unwrap_or_default().to_string(),
        bucket: bucket.unwrap_or_default().to_string(),
        key_prefix: prefix.map(str::to_string),
        bucket_owner: owner.map(str::to_string),
        format: format.to_string(),
        format_options: body.get("InputFormatOptions").cloned(),
        compression: compression.to_string(),
        creation: params
            .map(|p| Value::Object(p.0.clone()))
            .unwrap_or_default(),
        start_ms: now,
        end_ms: None,
        processed_bytes: 0,
        processed_items: 0,
        imported_items: 0,
        errors: 0,
        failure_code: None,
        failure_message: None,
        seq: 0,
    };
    let delete_delay = ctx.config.delete_delay_ms;
    let (meta, def, fresh) = ctx
        .store
        .write(move |txn| {
            // A replay of a running import: the original, unless it names another table.
            let running = import::list_for_write(txn)?.into_iter().find(|m| {
                m.client_token == meta.client_token && m.status == ImportStatus::InProgress
            });
            if let Some(m) = running {
                if m.table_name != meta.table_name {
                    return Err(ApiError::new(
                        ErrorCode::ImportConflictException,
                        "Duplicate request detected with conflicting parameters",
                    ));
                }
                let def = catalog::load_for_write(txn, &m.table_name)?.unwrap_or(def);
                return Ok((m, def, false));
            }
            if let Some(existing) = catalog::load_for_write(txn, &def.name)? {
                if !existing.is_gone(now, delete_delay) {
                    return Err(ApiError::resource_in_use(format!(
                        "Table already exists: {}",
                        def.name
                    )));
                }
            }
            let mut def = def;
            def.id = catalog::next_table_id(txn)?;
            catalog::save(txn, &def)?;
            let mut meta = meta;
            meta.seq = crate::backup::next_seq(txn)?;
            import::save(txn, &meta)?;
            Ok((meta, def, true))
        })
        .await?;
    if fresh {
        tracing::info!(import = %meta.arn, table = %def.name, "import started");
        let job = meta.clone();
        ctx.spawn("import", move |ctx| import::job::run(ctx, job, def));
    }
    Ok(json!({ "ImportTableDescription": description_json(ctx, &meta) }))
}

pub async fn describe_import(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let arn = Obj(body).str("ImportArn")?;
    let mut v = Violations::new();
    match arn {
        None => v.not_null("importArn"),
        Some(a) => v.length(a, "importArn", 37, 1024),
    }
    v.finish()?;
    let arn = arn.unwrap_or_default();
    let Some(id) = import::id_of_arn(arn) else {
        return Err(ApiError::validation(format!("Invalid Import ARN: {arn}")));
    };
    let txn = ctx.store.read()?;
    let meta = import::load(&txn, id)?
        .filter(|m| m.arn == arn)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ImportNotFoundException,
                format!("Import not found: {arn}"),
            )
        })?;
    Ok(json!({ "ImportTableDescription": description_json(ctx, &meta) }))
}

/// NextToken: the hex of the last answered import's id, padded with zeros to 112 hex
/// digits (DynamoDB's form: `([0-9a-f]{16})+`, at least 112 characters).
fn next_token(id: &str) -> String {
    let mut t = hex::encode(id);
    while t.len() < 112 {
        t.push('0');
    }
    t
}

fn token_id(token: &str) -> Option<String> {
    let hex_len = crate::backup::ID_LEN * 2;
    let bytes = hex::decode(token.get(..hex_len)?).ok()?;
    String::from_utf8(bytes).ok()
}

pub async fn list_imports(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let table = o.str("TableArn")?;
    let size = o.int("PageSize")?;
    let next = o.str("NextToken")?;
    let mut v = Violations::new();
    if let Some(t) = table {
        v.length(t, "tableArn", 1, 1024);
    }
    if let Some(s) = size {
        v.min_value(s, "pageSize", 1);
        v.max_value(s, "pageSize", 25);
    }
    let after = match next {
        None => None,
        Some(n) => {
            let well_formed = n.len() >= 112
                && n.len() % 16 == 0
                && n.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            match token_id(n).filter(|_| well_formed) {
                Some(id) => Some(id),
                None => {
                    v.push(
                        Some(n),
                        "nextToken",
                        "Member must satisfy regular expression pattern: ([0-9a-f]{16})+",
                    );
                    None
                }
            }
        }
    };
    v.finish()?;
    let txn = ctx.store.read()?;
    let all = import::list(&txn)?;
    let skip = match &after {
        None => 0,
        Some(a) => all
            .iter()
            .position(|m| &m.id == a)
            .map_or(all.len(), |i| i + 1),
    };
    let matching: Vec<&ImportMeta> = all
        .iter()
        .skip(skip)
        .filter(|m| table.is_none_or(|t| m.table_arn == t))
        .collect();
    let size = size.map_or(25, |s| s as usize);
    let page: Vec<Value> = matching
        .iter()
        .take(size)
        .map(|m| {
            let mut s = Map::new();
            s.insert("ImportArn".into(), json!(m.arn));
            s.insert("ImportStatus".into(), json!(m.status.as_str()));
            s.insert("TableArn".into(), json!(m.table_arn));
            s.insert("S3BucketSource".into(), bucket_source(m));
            s.insert("CloudWatchLogGroupArn".into(), json!(log_group(ctx)));
            s.insert("InputFormat".into(), json!(m.format));
            s.insert("StartTime".into(), json!(seconds(m.start_ms)));
            if let Some(end) = m.end_ms {
                s.insert("EndTime".into(), json!(seconds(end)));
            }
            Value::Object(s)
        })
        .collect();
    let mut out = Map::new();
    out.insert("ImportSummaryList".into(), Value::Array(page));
    if matching.len() > size {
        if let Some(last) = matching.get(size - 1) {
            out.insert("NextToken".into(), json!(next_token(&last.id)));
        }
    }
    Ok(Value::Object(out))
}
