//! How large redb's page cache is for a data file on disk. redb's own default (1 GiB) is
//! a fixed guess: on a large table the data file outgrows it and most reads of a leaf
//! miss it (a `pread` and a page copy in the kernel each), while in a small container it
//! can be more than the container may use. `[storage] page_cache_bytes` sets it; 0 (the
//! default) sizes it to the machine: a quarter of the memory this process may use (the
//! machine's, or its cgroup's limit when lower), at least 64 MiB. The cache holds only
//! pages that were read, so a small data file never fills it.

/// The floor of the automatic size.
const MIN_AUTO: u64 = 64 << 20;

/// redb's default, used when the machine's memory cannot be read.
const UNKNOWN_MACHINE: u64 = 1 << 30;

/// The cache size for `configured` bytes (0: sized to the machine).
pub fn bytes(configured: u64) -> usize {
    let bytes = match configured {
        0 => auto(memory_limit()),
        n => n,
    };
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// A quarter of `limit` (the memory this process may use), at least [`MIN_AUTO`].
fn auto(limit: Option<u64>) -> u64 {
    match limit {
        Some(limit) => (limit / 4).max(MIN_AUTO),
        None => UNKNOWN_MACHINE,
    }
}

/// The lower of the machine's memory and this process's cgroup limit, when known.
fn memory_limit() -> Option<u64> {
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| mem_total(&m));
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
    .and_then(|v| cgroup_limit(&v));
    match (machine, cgroup) {
        (Some(m), Some(c)) => Some(m.min(c)),
        (m, c) => m.or(c),
    }
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// A cgroup memory limit file's value (`max`, or cgroup v1's huge "unlimited": none).
fn cgroup_limit(value: &str) -> Option<u64> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|&n| n > 0 && n < 1 << 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_is_used_as_given() {
        assert_eq!(bytes(12_345), 12_345);
    }

    #[test]
    fn auto_is_a_quarter_of_the_limit_with_a_floor() {
        assert_eq!(auto(Some(24 << 30)), 6 << 30);
        assert_eq!(auto(Some(128 << 20)), MIN_AUTO);
        assert_eq!(auto(None), UNKNOWN_MACHINE);
        assert!(bytes(0) >= MIN_AUTO as usize);
    }

    #[test]
    fn reads_meminfo_and_cgroup_files() {
        let meminfo = "MemTotal:       24597292 kB\nMemFree:        22000000 kB\n";
        assert_eq!(mem_total(meminfo), Some(24_597_292 * 1024));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
        assert_eq!(cgroup_limit("536870912\n"), Some(512 << 20));
        assert_eq!(cgroup_limit("max\n"), None);
        assert_eq!(cgroup_limit("9223372036854771712\n"), None);
        assert_eq!(cgroup_limit("0"), None);
    }
}
