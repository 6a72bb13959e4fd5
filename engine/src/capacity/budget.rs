//! UpdateTable's limits on capacity changes (CAPACITY.md §3): the decrease budget (4 per
//! UTC day, then one more 3,600 s after the last accepted one, per table and per GSI)
//! and the PROVISIONED → PAY_PER_REQUEST switch limit (4 per rolling 24 hours), with
//! DynamoDB's LimitExceededException texts and their Java-style dates.

use crate::catalog::Throughput;
use crate::wire::{ApiError, ErrorCode};

/// Decreases allowed per UTC day before the hourly rule applies.
pub const FREE_DECREASES: i64 = 4;
/// After them, one decrease per this long (after the last accepted one).
pub const DECREASE_INTERVAL_MS: i64 = 3_600_000;
/// PROVISIONED → PAY_PER_REQUEST switches allowed per rolling window.
pub const BILLING_SWITCHES: usize = 4;
pub const BILLING_WINDOW_MS: i64 = 86_400_000;

const DAY_MS: i64 = 86_400_000;

/// Decreases counted on `now`'s UTC day (a counter from an earlier day is 0).
pub fn decreases_today(t: &Throughput, now_ms: i64) -> i64 {
    match t.last_decrease_ms {
        Some(ms) if ms.div_euclid(DAY_MS) == now_ms.div_euclid(DAY_MS) => t.decreases_today,
        _ => 0,
    }
}

/// Whether one more decrease is allowed now.
pub fn check_decrease(t: &Throughput, now_ms: i64) -> Result<(), ApiError> {
    let n = decreases_today(t, now_ms);
    let Some(last) = t.last_decrease_ms.filter(|_| n >= FREE_DECREASES) else {
        return Ok(());
    };
    let next = last + DECREASE_INTERVAL_MS;
    if now_ms >= next {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::LimitExceededException,
        format!(
            "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. After the first 4 decreases, each subsequent decrease in the same UTC day can be performed at most once every 3600 seconds. Number of decreases today: {n}. Last decrease at {}. Next decrease can be made at {}",
            full_date(last),
            full_date(next)
        ),
    ))
}

/// Counts an accepted decrease.
pub fn record_decrease(t: &mut Throughput, now_ms: i64) {
    t.decreases_today = decreases_today(t, now_ms) + 1;
    t.last_decrease_ms = Some(now_ms);
}

/// Whether one more PROVISIONED → PAY_PER_REQUEST switch is allowed, given the times of
/// the earlier ones.
pub fn check_billing_switch(switches: &[i64], now_ms: i64) -> Result<(), ApiError> {
    let recent: Vec<i64> = switches
        .iter()
        .copied()
        .filter(|t| now_ms - t < BILLING_WINDOW_MS)
        .collect();
    if recent.len() < BILLING_SWITCHES {
        return Ok(());
    }
    let last = recent.iter().copied().max().unwrap_or(now_ms);
    let oldest = recent.iter().copied().min().unwrap_or(now_ms);
    Err(ApiError::new(
        ErrorCode::LimitExceededException,
        format!(
            "Subscriber limit exceeded: Update to PayPerRequest mode are limited to {BILLING_SWITCHES} time(s) in 1 day(s). Last update at {}. Next update can be made at {}",
            java_date(last),
            java_date(oldest + BILLING_WINDOW_MS)
        ),
    ))
}

struct Parts {
    year: i64,
    month: i64,
    day: i64,
    weekday: usize,
    hour: i64,
    minute: i64,
    second: i64,
}

fn parts(ms: i64) -> Parts {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = crate::api::table::civil_from_days(days);
    Parts {
        year,
        month,
        day,
        // 1970-01-01 was a Thursday (0 = Sunday).
        weekday: (days + 4).rem_euclid(7) as usize,
        hour: rem / 3600,
        minute: (rem % 3600) / 60,
        second: rem % 60,
    }
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month(p: &Parts) -> &'static str {
    MONTHS[(p.month.clamp(1, 12) - 1) as usize]
}

/// `Wednesday, June 27, 2018 4:43:55 PM UTC` (the decrease message's dates).
pub fn full_date(ms: i64) -> String {
    let p = parts(ms);
    let (h12, ampm) = match p.hour {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}, {} {}, {} {h12}:{:02}:{:02} {ampm} UTC",
        WEEKDAYS[p.weekday],
        month(&p),
        p.day,
        p.year,
        p.minute,
        p.second
    )
}

/// `Sat Feb 23 03:07:45 UTC 2019` (Java's `Date.toString`).
pub fn java_date(ms: i64) -> String {
    let p = parts(ms);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        &WEEKDAYS[p.weekday][..3],
        &month(&p)[..3],
        p.day,
        p.hour,
        p.minute,
        p.second,
        p.year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_dynamodb_writes_them() {
        // 2018-06-27T16:43:55Z, from the captured message.
        assert_eq!(
            full_date(1_530_117_835_000),
            "Wednesday, June 27, 2018 4:43:55 PM UTC"
        );
        // 2019-02-23T03:07:45Z.
        assert_eq!(java_date(1_550_891_265_000), "Sat Feb 23 03:07:45 UTC 2019");
        assert_eq!(full_date(0), "Thursday, January 1, 1970 12:00:00 AM UTC");
    }

    #[test]
    fn four_free_decreases_then_one_an_hour_until_midnight() {
        let day = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        let mut t = Throughput::new(10, 10);
        for i in 0..4 {
            assert!(check_decrease(&t, day + i).is_ok());
            record_decrease(&mut t, day + i);
        }
        let e = check_decrease(&t, day + 10).expect_err("fifth");
        assert!(e
            .message()
            .unwrap_or_default()
            .contains("Number of decreases today: 4. Last decrease at Thursday, January 1, 2026 12:00:00 AM UTC. Next decrease can be made at Thursday, January 1, 2026 1:00:00 AM UTC"));
        assert!(check_decrease(&t, day + 3 + DECREASE_INTERVAL_MS).is_ok());
        assert_eq!(decreases_today(&t, day + DAY_MS), 0);
        assert!(check_decrease(&t, day + DAY_MS).is_ok());
    }

    #[test]
    fn four_switches_a_day() {
        let t0 = 1_767_225_600_000;
        let switches = [t0, t0 + 1, t0 + 2, t0 + 3];
        assert!(check_billing_switch(&switches[..3], t0 + 4).is_ok());
        let e = check_billing_switch(&switches, t0 + 4).expect_err("fifth");
        assert_eq!(e.message(), Some("Subscriber limit exceeded: Update to PayPerRequest mode are limited to 4 time(s) in 1 day(s). Last update at Thu Jan 01 00:00:00 UTC 2026. Next update can be made at Fri Jan 02 00:00:00 UTC 2026"));
        assert!(check_billing_switch(&switches, t0 + BILLING_WINDOW_MS).is_ok());
    }
}
