//! Typed comparisons for the Date, IP address and Binary condition operators: ISO 8601
//! times or epoch seconds, IPv4/IPv6 CIDR blocks or single addresses, and base64 bytes.
//! Unparsable values never match.

use std::net::IpAddr;

use base64::Engine as _;

/// Milliseconds since 1970-01-01T00:00:00Z from ISO 8601 (`2024-01-31`,
/// `2024-01-31T12:34:56Z`, `…T12:34:56.789+01:00`, `…T12:34Z`) or epoch seconds
/// (`1706704496`, `1706704496.5`).
pub fn parse_time(s: &str) -> Option<i128> {
    let s = s.trim();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && !s[1..].contains('-')
    {
        let secs: f64 = s.parse().ok()?;
        return secs.is_finite().then(|| (secs * 1000.0).round() as i128);
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let mut ms: i128 = 0;
    let mut i = 10;
    if i < b.len() {
        if b[i] != b'T' && b[i] != b't' && b[i] != b' ' {
            return None;
        }
        let (h, mi) = (num(i + 1, 2)?, num(i + 4, 2)?);
        if b.get(i + 3) != Some(&b':') || h > 23 || mi > 59 {
            return None;
        }
        ms += (h * 3_600_000 + mi * 60_000) as i128;
        i += 6;
        if b.get(i) == Some(&b':') {
            let sec = num(i + 1, 2)?;
            if sec > 60 {
                return None;
            }
            ms += (sec * 1000) as i128;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut end = start;
                while b.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                if end == start {
                    return None;
                }
                let frac = s.get(start..end)?;
                let millis: String = frac.chars().chain("000".chars()).take(3).collect();
                ms += millis.parse::<i128>().ok()?;
                i = end;
            }
        }
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') if i + 1 == b.len() => {}
            Some(&sign @ (b'+' | b'-')) => {
                let oh = num(i + 1, 2)?;
                let om = match (b.get(i + 3), b.len() - i) {
                    (Some(b':'), 6) => num(i + 4, 2)?,
                    (_, 5) => num(i + 3, 2)?,
                    (_, 3) => 0,
                    _ => return None,
                };
                let offset = (oh * 3_600_000 + om * 60_000) as i128;
                ms += if sign == b'+' { -offset } else { offset };
            }
            _ => return None,
        }
    }
    Some(days as i128 * 86_400_000 + ms)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether address `addr` lies in `block` (`10.0.0.0/8`, `2001:db8::/32` or one
/// address). An IPv4-mapped IPv6 address counts as its IPv4 address.
pub fn ip_in(addr: &str, block: &str) -> bool {
    let Ok(addr) = addr.trim().parse::<IpAddr>() else {
        return false;
    };
    let addr = addr.to_canonical();
    let (net, bits) = match block.trim().split_once('/') {
        Some((n, b)) => match b.parse::<u32>() {
            Ok(b) => (n, Some(b)),
            Err(_) => return false,
        },
        None => (block.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (addr, net.to_canonical()) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32);
            bits <= 32 && prefix_eq(u32::from(a) as u128, u32::from(n) as u128, 32, bits)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128);
            bits <= 128 && prefix_eq(u128::from(a), u128::from(n), 128, bits)
        }
        _ => false,
    }
}

fn prefix_eq(a: u128, b: u128, width: u32, bits: u32) -> bool {
    bits == 0 || (a ^ b) >> (width - bits) == 0
}

/// BinaryEquals: both sides base64, compared as bytes.
pub fn binary_eq(a: &str, b: &str) -> bool {
    let e = base64::engine::general_purpose::STANDARD;
    match (e.decode(a.trim()), e.decode(b.trim())) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("1706704496"), Some(1_706_704_496_000));
        assert_eq!(
            parse_time("2024-01-31T12:34:56.789Z"),
            Some(1_706_704_496_789)
        );
        assert_eq!(
            parse_time("2024-01-31T13:34:56.789+01:00"),
            Some(1_706_704_496_789)
        );
        assert_eq!(parse_time("2024-01-31T12:34:56"), Some(1_706_704_496_000));
        assert_eq!(parse_time("2024-01-31"), Some(1_706_659_200_000));
        assert_eq!(parse_time("2024-02-30"), None);
        assert_eq!(parse_time("soon"), None);
        assert_eq!(parse_time("2024-01-31T12:34:56Zx"), None);
    }

    #[test]
    fn addresses() {
        assert!(ip_in("10.1.2.3", "10.0.0.0/8"));
        assert!(!ip_in("11.1.2.3", "10.0.0.0/8"));
        assert!(ip_in("127.0.0.1", "127.0.0.1"));
        assert!(ip_in("::ffff:192.168.1.9", "192.168.1.0/24"));
        assert!(ip_in("2001:db8::1", "2001:db8::/32"));
        assert!(!ip_in("2001:db9::1", "2001:db8::/32"));
        assert!(!ip_in("10.0.0.1", "2001:db8::/32"));
        assert!(ip_in("1.2.3.4", "0.0.0.0/0"));
        assert!(!ip_in("1.2.3.4", "1.2.3.4/33"));
        assert!(!ip_in("nope", "0.0.0.0/0"));
    }

    #[test]
    fn binaries() {
        assert!(binary_eq("QUJD", "QUJD"));
        assert!(!binary_eq("QUJD", "QUJE"));
        assert!(!binary_eq("***", "***"));
    }
}
