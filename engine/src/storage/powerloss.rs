//! A simulated disk for redb that can lose power (tests only). Every write and length
//! change goes to the "page cache" (what reads see) and to a log; `sync_data` makes the
//! log durable. A power loss ([`Disk::power_loss`]) keeps the durable image plus, in
//! order, a random prefix of the unsynced log — the last write of that prefix torn at a
//! random 512-byte sector boundary — and drops the rest: what a disk that writes in order
//! but loses its volatile cache may hold after the power goes. The image is then opened
//! as a new disk, as after a reboot.
//!
//! `seeded_skip_fsync` carries the seeded bug of `seeded` for the harness of
//! `powerloss_tests`, per disk, since tests in one binary share the environment.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::StorageBackend;

/// A sector: the unit a torn write keeps whole.
const SECTOR: usize = 512;

#[derive(Debug, Clone)]
enum Op {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

#[derive(Debug, Default)]
struct State {
    /// What reads see (the page cache).
    current: Vec<u8>,
    /// What survives a power loss for sure.
    durable: Vec<u8>,
    /// Writes and length changes since the last `sync_data`.
    log: Vec<Op>,
    /// `sync_data` calls so far.
    syncs: u64,
    /// Armed: the power goes during the write this many writes from now.
    armed: Option<(u64, u64)>,
    /// What survived the power loss the armed write triggered.
    frozen: Option<Vec<u8>>,
}

/// A shared handle to one simulated disk (clones are the same disk).
#[derive(Debug, Clone, Default)]
pub struct Disk {
    state: Arc<Mutex<State>>,
    seeded_skip_fsync: bool,
}

fn poisoned() -> io::Error {
    io::Error::other("simulated disk lock poisoned")
}

fn apply(image: &mut Vec<u8>, op: &Op) {
    match op {
        Op::SetLen(len) => image.resize(usize::try_from(*len).unwrap_or(usize::MAX), 0),
        Op::Write(offset, data) => {
            let start = usize::try_from(*offset).unwrap_or(usize::MAX);
            let end = start.saturating_add(data.len());
            if image.len() < end {
                image.resize(end, 0);
            }
            image[start..end].copy_from_slice(data);
        }
    }
}

/// A small deterministic generator (splitmix64), so a failing seed replays.
pub fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Disk {
    /// An empty disk; `seeded_skip_fsync` turns on the seeded bug for stores opened on it.
    pub fn new(seeded_skip_fsync: bool) -> Disk {
        Disk {
            state: Arc::default(),
            seeded_skip_fsync,
        }
    }

    pub fn seeded_skip_fsync(&self) -> bool {
        self.seeded_skip_fsync
    }

    fn lock(&self) -> io::Result<MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| poisoned())
    }

    /// Makes the power go in the middle of the `writes`-th write from now: the log
    /// before it is kept and that write torn at a random sector (`seed`).
    pub fn arm(&self, writes: u64, seed: u64) -> io::Result<()> {
        let mut s = self.lock()?;
        s.armed = Some((writes.max(1), seed));
        s.frozen = None;
        Ok(())
    }

    /// True once an armed power loss happened: later writes reach no surviving image.
    pub fn is_frozen(&self) -> bool {
        self.lock().map(|s| s.frozen.is_some()).unwrap_or(true)
    }

    /// The disk as it was when the armed power loss happened.
    pub fn frozen(&self) -> io::Result<Option<Disk>> {
        let s = self.lock()?;
        Ok(s.frozen.clone().map(|image| self.reboot(image)))
    }

    fn reboot(&self, image: Vec<u8>) -> Disk {
        let disk = Disk::new(self.seeded_skip_fsync);
        if let Ok(mut n) = disk.lock() {
            n.current = image.clone();
            n.durable = image;
        }
        disk
    }

    /// The power goes: returns a new disk holding what survived (see the module doc),
    /// and how many unsynced operations of the log were kept (the last one torn).
    /// The old disk keeps working, but nothing it is told later reaches the new one.
    pub fn power_loss(&self, seed: &mut u64) -> io::Result<(Disk, usize)> {
        let s = self.lock()?;
        let mut image = s.durable.clone();
        let kept = (next(seed) % (s.log.len() as u64 + 1)) as usize;
        for (i, op) in s.log.iter().take(kept).enumerate() {
            match op {
                Op::Write(offset, data) if i + 1 == kept && data.len() > SECTOR => {
                    let sectors = data.len().div_ceil(SECTOR) as u64;
                    let cut = ((next(seed) % sectors) as usize * SECTOR).min(data.len());
                    apply(&mut image, &Op::Write(*offset, data[..cut].to_vec()));
                }
                other => apply(&mut image, other),
            }
        }
        Ok((self.reboot(image), kept))
    }
}

impl StorageBackend for Disk {
    fn len(&self) -> io::Result<u64> {
        Ok(self.lock()?.current.len() as u64)
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let s = self.lock()?;
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let end = start.checked_add(len).ok_or(io::ErrorKind::InvalidInput)?;
        s.current
            .get(start..end)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "read past the end"))
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.lock()?;
        let op = Op::SetLen(len);
        apply(&mut s.current, &op);
        s.log.push(op);
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> io::Result<()> {
        let mut s = self.lock()?;
        let log = std::mem::take(&mut s.log);
        for op in &log {
            apply(&mut s.durable, op);
        }
        s.syncs += 1;
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut s = self.lock()?;
        if let Some((left, mut seed)) = s.armed {
            if left <= 1 {
                let mut image = s.durable.clone();
                for op in &s.log {
                    apply(&mut image, op);
                }
                let sectors = data.len().div_ceil(SECTOR) as u64;
                let cut = ((next(&mut seed) % sectors.max(1)) as usize * SECTOR).min(data.len());
                apply(&mut image, &Op::Write(offset, data[..cut].to_vec()));
                s.frozen = Some(image);
                s.armed = None;
            } else {
                s.armed = Some((left - 1, seed));
            }
        }
        let op = Op::Write(offset, data.to_vec());
        apply(&mut s.current, &op);
        s.log.push(op);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_power_loss_keeps_what_was_synced_and_drops_or_tears_the_rest() {
        let d = Disk::new(false);
        d.set_len(4096).unwrap();
        d.write(0, &[1; 1024]).unwrap();
        d.sync_data(false).unwrap();
        d.write(0, &[2; 2048]).unwrap();
        let mut seen_torn = false;
        for seed in 0..64 {
            let mut s = seed;
            let (after, kept) = d.power_loss(&mut s).unwrap();
            let bytes = after.read(0, 2048).unwrap();
            assert_eq!(after.len().unwrap(), 4096);
            if kept == 0 {
                assert_eq!(&bytes[..1024], &[1; 1024][..]);
                assert!(bytes[1024..].iter().all(|b| *b == 0));
            } else {
                // A prefix of whole sectors is new, the rest old.
                let new = bytes.iter().take_while(|b| **b == 2).count();
                assert_eq!(new % SECTOR, 0);
                seen_torn |= new < 2048;
            }
        }
        assert!(seen_torn, "some seed tears the last write");
    }
}
