//! `daxlite export` and `daxlite import`: an export or import on a data directory with
//! no server running (the data file is locked while one is). Both use the engine's own
//! jobs and the `[export]` settings (a local folder or an S3-compatible endpoint), print
//! the final DescribeExport / DescribeImport answer on stdout, log their progress
//! (items, bytes, rate, once a second) on stderr, and exit 0 when the job COMPLETED,
//! 1 when it FAILED or could not start.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use daxlite_engine::export::offline::Request;
use daxlite_engine::wire::Operation;
use daxlite_engine::Engine;
use serde_json::{json, Value};

/// The offline subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Export a table of the data directory as it is now (AWS's export layout; PITR
    /// need not be on), into `[export]`'s folder or S3 endpoint.
    Export(ExportArgs),
    /// Import objects from a bucket into a new table of the data directory, as
    /// ImportTable does.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The table's name or ARN.
    #[arg(long)]
    table: String,
    /// The bucket (a sub-folder of `[export] root`, or an S3 bucket).
    #[arg(long)]
    bucket: String,
    /// The key prefix (S3Prefix).
    #[arg(long)]
    prefix: Option<String>,
    /// DYNAMODB_JSON or ION.
    #[arg(long, default_value = "DYNAMODB_JSON")]
    format: String,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The bucket to read.
    #[arg(long)]
    bucket: String,
    /// Every object whose key starts with this is read (S3KeyPrefix).
    #[arg(long, default_value = "")]
    prefix: String,
    /// DYNAMODB_JSON, ION or CSV.
    #[arg(long, default_value = "DYNAMODB_JSON")]
    format: String,
    /// GZIP, ZSTD or NONE.
    #[arg(long, default_value = "NONE")]
    compression: String,
    /// TableCreationParameters as JSON, or @FILE to read it from a file.
    #[arg(long)]
    table_creation_parameters: String,
    /// InputFormatOptions as JSON (CSV's Delimiter and HeaderList).
    #[arg(long)]
    input_format_options: Option<String>,
}

/// Runs one subcommand on the engine (opened on the data directory by the caller).
pub async fn run(engine: &Engine, command: Command) -> ExitCode {
    let outcome = match command {
        Command::Export(a) => export(engine, a).await,
        Command::Import(a) => import(engine, a).await,
    };
    engine.close();
    match outcome {
        Ok((answer, completed)) => {
            println!("{answer:#}");
            if completed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => {
            eprintln!("daxlite: {message}");
            ExitCode::from(1)
        }
    }
}

async fn call(engine: &Engine, op: Operation, body: &Value) -> Result<Value, String> {
    let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let out = engine.call(op, &bytes).await.map_err(|e| {
        let (code, message) = (e.code().name(), e.message().unwrap_or_default());
        format!("{code}: {message}")
    })?;
    serde_json::from_slice(&out).map_err(|e| e.to_string())
}

async fn export(engine: &Engine, a: ExportArgs) -> Result<(Value, bool), String> {
    let meta = engine
        .export_now(Request {
            table: a.table,
            bucket: a.bucket,
            prefix: a.prefix,
            format: a.format,
        })
        .await
        .map_err(|e| {
            let (code, message) = (e.code().name(), e.message().unwrap_or_default());
            format!("{code}: {message}")
        })?;
    let answer = call(
        engine,
        Operation::DescribeExport,
        &json!({ "ExportArn": meta.arn }),
    )
    .await?;
    let completed = answer["ExportDescription"]["ExportStatus"] == "COMPLETED";
    Ok((answer, completed))
}

fn json_arg(what: &str, text: &str) -> Result<Value, String> {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{what}: {path}: {e}"))?,
        None => text.to_string(),
    };
    serde_json::from_str(&text).map_err(|e| format!("{what} is not JSON: {e}"))
}

async fn import(engine: &Engine, a: ImportArgs) -> Result<(Value, bool), String> {
    let mut body = json!({
        "S3BucketSource": {"S3Bucket": a.bucket, "S3KeyPrefix": a.prefix},
        "InputFormat": a.format,
        "InputCompressionType": a.compression,
        "TableCreationParameters":
            json_arg("--table-creation-parameters", &a.table_creation_parameters)?,
        "ClientToken": uuid::Uuid::new_v4().to_string(),
    });
    if let Some(o) = &a.input_format_options {
        body["InputFormatOptions"] = json_arg("--input-format-options", o)?;
    }
    let started = call(engine, Operation::ImportTable, &body).await?;
    let arn = started["ImportTableDescription"]["ImportArn"]
        .as_str()
        .ok_or("ImportTable answered without an ImportArn")?
        .to_string();
    loop {
        let answer = call(
            engine,
            Operation::DescribeImport,
            &json!({ "ImportArn": arn }),
        )
        .await?;
        let status = answer["ImportTableDescription"]["ImportStatus"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if status != "IN_PROGRESS" {
            return Ok((answer, status == "COMPLETED"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
