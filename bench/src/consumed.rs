//! `--report-capacity`: the read capacity a target's engine consumed during the measured
//! rounds, per 1,000 reads — from the engine's own capacity series on `/metrics`
//! (`daxlite_dynamodb_consumed_read_capacity_units_total{table}`, kept while the spawned
//! daxlite runs with `DAXLITE_CAPACITY_SERIES=true`). Behind a cache only the misses
//! reach the engine, so the figure is what a DAX-style cache leaves of the table's RCU.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::{BenchArgs, WorkloadKind};

const SERIES: &str = "daxlite_dynamodb_consumed_read_capacity_units_total";

/// The environment a spawned daxlite needs for the figure.
pub const ENV: (&str, &str) = ("DAXLITE_CAPACITY_SERIES", "true");

/// Read requests of the table per operation of the workload (0: a write workload).
pub fn reads_per_op(args: &BenchArgs) -> f64 {
    match args.workload {
        WorkloadKind::Get | WorkloadKind::PartiqlGet | WorkloadKind::Query => 1.0,
        WorkloadKind::ScanPage => 1.0,
        WorkloadKind::BatchGet => args.batch as f64,
        WorkloadKind::Mixed => args.read_ratio,
        WorkloadKind::Put | WorkloadKind::Update | WorkloadKind::PutNew => 0.0,
        WorkloadKind::PartiqlInsert | WorkloadKind::Delete | WorkloadKind::BatchWrite => 0.0,
    }
}

/// The read units `table` consumed so far on the daxlite at `url` (`http://host:port`).
pub async fn read_units(url: &str, table: &str) -> Result<f64, String> {
    let host = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: --report-capacity needs an http:// endpoint"))?
        .trim_end_matches('/');
    let mut conn = tokio::net::TcpStream::connect(host)
        .await
        .map_err(|e| format!("{url}/metrics: {e}"))?;
    let req = format!("GET /metrics HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n");
    conn.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("{url}/metrics: {e}"))?;
    let mut text = String::new();
    conn.read_to_string(&mut text)
        .await
        .map_err(|e| format!("{url}/metrics: {e}"))?;
    Ok(sum(&text, table))
}

/// The sum of the table's series (table arm; GSI arms carry an `index` label).
fn sum(text: &str, table: &str) -> f64 {
    let label = format!("table=\"{table}\"");
    text.lines()
        .filter(|l| l.starts_with(&format!("{SERIES}{{")))
        .filter(|l| l.contains(&label) && !l.contains("index=\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sums_the_table_arm_only() {
        let text = "# TYPE x counter\n\
            daxlite_dynamodb_consumed_read_capacity_units_total{table=\"t\"} 12.5\n\
            daxlite_dynamodb_consumed_read_capacity_units_total{table=\"t\",index=\"g\"} 3\n\
            daxlite_dynamodb_consumed_read_capacity_units_total{table=\"u\"} 7\n";
        assert_eq!(super::sum(text, "t"), 12.5);
        assert_eq!(super::sum(text, "missing"), 0.0);
    }
}
