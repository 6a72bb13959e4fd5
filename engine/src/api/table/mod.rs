//! The table lifecycle: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable,
//! the tag operations on tables, and resource-based policies.

mod create;
mod delete;
pub mod describe;
mod list;
pub mod parse;
pub mod policy;
pub mod tags;
mod update;

pub use create::{create_table, table_def};
pub use delete::{delete_table, drop_table_data};
pub use describe::describe_table;
pub use list::list_tables;
pub use policy::{delete_resource_policy, get_resource_policy, put_resource_policy};
pub use tags::{list_tags_of_resource, tag_resource, untag_resource};
pub use update::update_table;

/// A stream label: the ISO-8601 time a stream was enabled, millisecond precision, as
/// DynamoDB spells it (`2024-01-31T12:34:56.789`).
pub fn stream_label(now_ms: i64) -> String {
    let secs = now_ms.div_euclid(1000);
    let ms = now_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stream_labels_are_iso_times() {
        assert_eq!(super::stream_label(0), "1970-01-01T00:00:00.000");
        assert_eq!(
            super::stream_label(1_706_704_496_789),
            "2024-01-31T12:34:56.789"
        );
    }
}
