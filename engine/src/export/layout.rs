//! The pieces of AWS's export layout that readers check: object keys, base64 MD5
//! checksums, ETags, ISO-8601 times and the two manifests.

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::ExportMeta;

/// `[<prefix>/]AWSDynamoDB/<id>` — where every object of export `id` lives.
pub fn base(prefix: Option<&str>, id: &str) -> String {
    match prefix
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(p) => format!("{p}/AWSDynamoDB/{id}"),
        None => format!("AWSDynamoDB/{id}"),
    }
}

/// base64(MD5(bytes)): the `md5Checksum` of a data file and the content of `.md5` files.
pub fn md5_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(bytes))
}

/// The S3 ETag of an object uploaded in one part: hex MD5.
pub fn etag(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// Where an incremental export's data files go: `[<prefix>/]AWSDynamoDB/data`, shared
/// by the exports of that prefix, as AWS lays them out.
pub fn incremental_data(prefix: Option<&str>) -> String {
    match prefix
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(p) => format!("{p}/AWSDynamoDB/data"),
        None => "AWSDynamoDB/data".to_string(),
    }
}

/// `2024-01-31T12:34:56.789Z`.
pub fn iso(ms: i64) -> String {
    format!("{}Z", crate::api::table::stream_label(ms))
}

/// One line of manifest-files.json.
pub fn file_line(item_count: u64, data: &[u8], key: &str) -> String {
    json!({
        "itemCount": item_count,
        "md5Checksum": md5_base64(data),
        "etag": etag(data),
        "dataFileS3Key": key,
    })
    .to_string()
}

/// manifest-summary.json (an incremental export adds its window, type and view).
pub fn summary(meta: &ExportMeta, end_ms: i64, manifest_files_key: &str) -> Value {
    let mut v = full_summary(meta, end_ms, manifest_files_key);
    if let Some(inc) = &meta.incremental {
        v["exportFromTime"] = json!(iso(inc.from_ms));
        v["exportToTime"] = json!(iso(inc.to_ms));
        v["exportType"] = json!("INCREMENTAL_EXPORT");
        v["outputView"] = json!(inc.view);
        if let Some(m) = v.as_object_mut() {
            m.remove("exportTime");
        }
    }
    v
}

fn full_summary(meta: &ExportMeta, end_ms: i64, manifest_files_key: &str) -> Value {
    json!({
        "version": "2020-06-30",
        "exportArn": meta.arn,
        "startTime": iso(meta.start_ms),
        "endTime": iso(end_ms),
        "tableArn": meta.table_arn,
        "tableId": meta.table_id,
        "exportTime": iso(meta.export_ms),
        "s3Bucket": meta.bucket,
        "s3Prefix": meta.prefix,
        "s3SseAlgorithm": meta.sse_algorithm.as_deref().unwrap_or("AES256"),
        "s3SseKmsKeyId": meta.sse_kms_key,
        "manifestFilesS3Key": manifest_files_key,
        "billedSizeBytes": meta.billed_bytes,
        "itemCount": meta.item_count,
        "outputFormat": meta.format,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn checksums_and_keys_match_aws() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e.
        assert_eq!(super::etag(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(super::md5_base64(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
        assert_eq!(super::base(Some("p/q/"), "x"), "p/q/AWSDynamoDB/x");
        assert_eq!(super::base(None, "x"), "AWSDynamoDB/x");
        assert_eq!(super::iso(1_706_704_496_789), "2024-01-31T12:34:56.789Z");
    }
}
