//! The `--in-memory` storage backend: redb's file as fixed-size chunks allocated on first
//! write. redb grows its file ahead of use (doubling while it is small) and its own
//! in-memory backend zero-fills every grown byte, so resident memory followed the file's
//! length; here a region redb has not written yet costs nothing, and RSS follows the pages
//! in use.

use std::io;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use redb::StorageBackend;

/// Bytes per chunk: large enough that the chunk table stays small, small enough that a
/// page write rarely makes a mostly unused chunk resident.
const CHUNK: usize = 16 * 1024;

#[derive(Debug, Default)]
struct Chunks {
    len: u64,
    chunks: Vec<Option<Box<[u8]>>>,
}

/// Sparse in-memory storage for redb.
#[derive(Debug, Default)]
pub struct SparseMemory(RwLock<Chunks>);

fn out_of_range() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "offset out of range")
}

fn poisoned() -> io::Error {
    io::Error::other("in-memory store lock poisoned")
}

impl SparseMemory {
    pub fn new() -> SparseMemory {
        SparseMemory::default()
    }

    fn read_guard(&self) -> io::Result<RwLockReadGuard<'_, Chunks>> {
        self.0.read().map_err(|_| poisoned())
    }

    fn write_guard(&self) -> io::Result<RwLockWriteGuard<'_, Chunks>> {
        self.0.write().map_err(|_| poisoned())
    }

    /// Bytes of chunks allocated (what this backend holds in memory).
    #[cfg(test)]
    pub fn allocated_bytes(&self) -> u64 {
        self.read_guard()
            .map(|g| g.chunks.iter().flatten().count() as u64 * CHUNK as u64)
            .unwrap_or(0)
    }
}

/// Checks `offset..offset + len` lies within `total` and returns it as usizes.
fn span(offset: u64, len: usize, total: u64) -> io::Result<(usize, usize)> {
    let end = offset.checked_add(len as u64).ok_or_else(out_of_range)?;
    if end > total {
        return Err(out_of_range());
    }
    let start = usize::try_from(offset).map_err(|_| out_of_range())?;
    Ok((start, start + len))
}

impl StorageBackend for SparseMemory {
    fn len(&self) -> io::Result<u64> {
        Ok(self.read_guard()?.len)
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let g = self.read_guard()?;
        let (start, end) = span(offset, len, g.len)?;
        let mut out = vec![0u8; len];
        let mut at = start;
        while at < end {
            let (chunk, within) = (at / CHUNK, at % CHUNK);
            let n = (CHUNK - within).min(end - at);
            if let Some(Some(data)) = g.chunks.get(chunk) {
                let (dst, src) = (
                    out.get_mut(at - start..at - start + n),
                    data.get(within..within + n),
                );
                if let (Some(dst), Some(src)) = (dst, src) {
                    dst.copy_from_slice(src);
                }
            }
            at += n;
        }
        Ok(out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut g = self.write_guard()?;
        let bytes = usize::try_from(len).map_err(|_| out_of_range())?;
        let chunks = bytes.div_ceil(CHUNK);
        g.chunks.resize_with(chunks, || None);
        // Shrinking: the cut-off tail of the last chunk must read as zeros if it grows again.
        if len < g.len {
            let within = bytes % CHUNK;
            if within > 0 {
                if let Some(Some(last)) = g.chunks.last_mut() {
                    if let Some(tail) = last.get_mut(within..) {
                        tail.fill(0);
                    }
                }
            }
        }
        g.len = len;
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut g = self.write_guard()?;
        let (start, end) = span(offset, data.len(), g.len)?;
        let mut at = start;
        while at < end {
            let (chunk, within) = (at / CHUNK, at % CHUNK);
            let n = (CHUNK - within).min(end - at);
            let slot = g.chunks.get_mut(chunk).ok_or_else(out_of_range)?;
            let target = slot.get_or_insert_with(|| vec![0u8; CHUNK].into_boxed_slice());
            let (dst, src) = (
                target.get_mut(within..within + n),
                data.get(at - start..at - start + n),
            );
            match (dst, src) {
                (Some(dst), Some(src)) => dst.copy_from_slice(src),
                _ => return Err(out_of_range()),
            }
            at += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unwritten_regions_read_as_zeros_and_cost_nothing() {
        let m = SparseMemory::new();
        m.set_len(10 * CHUNK as u64).unwrap();
        assert_eq!(m.allocated_bytes(), 0);
        assert_eq!(m.read(3, 5).unwrap(), vec![0; 5]);
        m.write(CHUNK as u64 - 2, &[1, 2, 3, 4]).unwrap();
        assert_eq!(m.allocated_bytes(), 2 * CHUNK as u64);
        assert_eq!(m.read(CHUNK as u64 - 3, 6).unwrap(), vec![0, 1, 2, 3, 4, 0]);
        assert!(m.read(10 * CHUNK as u64 - 1, 2).is_err());
        assert!(m.write(10 * CHUNK as u64, &[1]).is_err());
        assert!(m.read(u64::MAX, 2).is_err());
    }

    #[test]
    fn shrinking_then_growing_reads_zeros() {
        let m = SparseMemory::new();
        m.set_len(100).unwrap();
        m.write(0, &[9; 100]).unwrap();
        m.set_len(50).unwrap();
        m.set_len(100).unwrap();
        let back = m.read(0, 100).unwrap();
        assert_eq!(&back[..50], &[9; 50][..]);
        assert_eq!(&back[50..], &[0; 50][..]);
    }

    proptest! {
        // The backend behaves exactly like a plain byte vector (redb's own backend).
        #[test]
        fn matches_a_byte_vector(ops in proptest::collection::vec(
            (0u8..3, 0u64..300_000, proptest::collection::vec(any::<u8>(), 0..9_000)), 1..40)) {
            let m = SparseMemory::new();
            let mut model: Vec<u8> = Vec::new();
            for (kind, at, data) in ops {
                match kind {
                    0 => {
                        m.set_len(at).unwrap();
                        model.resize(at as usize, 0);
                    }
                    1 => {
                        let ok = at as usize + data.len() <= model.len();
                        prop_assert_eq!(m.write(at, &data).is_ok(), ok);
                        if ok {
                            model[at as usize..at as usize + data.len()].copy_from_slice(&data);
                        }
                    }
                    _ => {
                        let len = data.len();
                        let ok = at as usize + len <= model.len();
                        match m.read(at, len) {
                            Ok(bytes) => {
                                prop_assert!(ok);
                                prop_assert_eq!(&bytes[..], &model[at as usize..at as usize + len]);
                            }
                            Err(_) => prop_assert!(!ok),
                        }
                    }
                }
                prop_assert_eq!(m.len().unwrap(), model.len() as u64);
            }
        }
    }
}
