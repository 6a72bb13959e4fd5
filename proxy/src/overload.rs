//! Overload protection (`[limits]`, and `[upstream] max_in_flight` / `max_queued`): the
//! gates a request passes before any work is done for it. Each gate is a semaphore tried
//! without waiting, so a request beyond a bound is answered at once with DynamoDB's
//! `ThrottlingException` (HTTP 400, retried by every AWS SDK) instead of queueing; the
//! connection cap makes the accept loop wait instead. Nothing here exists when a bound
//! is not configured: the request path is then exactly what it was. Semantics and the
//! choice of answer: `proxy/docs/OVERLOAD.md`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use daxlite_engine::wire::{ApiError, ErrorCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

use crate::metrics as m;

/// The message of DynamoDB's ThrottlingException (its error-handling guide).
pub const THROTTLED_MESSAGE: &str = "Rate of requests exceeds the allowed throughput.";

/// The answer to a request refused by a bound.
pub fn throttled() -> ApiError {
    ApiError::new(ErrorCode::ThrottlingException, THROTTLED_MESSAGE)
}

/// The validated `[limits]` (None: that bound or timeout is off).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: Option<usize>,
    pub max_in_flight: Option<usize>,
    pub max_in_flight_per_connection: Option<usize>,
    pub header_read_timeout: Option<Duration>,
    pub body_read_timeout: Option<Duration>,
}

impl Limits {
    /// Whether every bound and timeout is off.
    pub fn is_off(&self) -> bool {
        *self == Limits::default()
    }
}

/// The process-wide gates of one server.
pub struct Gates {
    connections: Option<Arc<Semaphore>>,
    in_flight: Option<Arc<Semaphore>>,
    per_connection: Option<usize>,
}

impl Gates {
    pub fn new(limits: &Limits) -> Gates {
        Gates {
            connections: limits.max_connections.map(|n| Arc::new(Semaphore::new(n))),
            in_flight: limits.max_in_flight.map(|n| Arc::new(Semaphore::new(n))),
            per_connection: limits.max_in_flight_per_connection,
        }
    }

    /// Waits for a free connection slot (None at once when there is no cap); the slot
    /// is held for the connection's life.
    pub async fn connection_slot(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(self.connections.as_ref()?)
            .acquire_owned()
            .await
            .ok()
    }

    /// The admission check of one new connection's requests.
    pub fn admission(&self) -> Admission {
        Admission {
            process: self.in_flight.clone(),
            connection: self.per_connection.map(|n| Arc::new(Semaphore::new(n))),
        }
    }
}

/// The in-flight bounds one connection's requests are admitted by.
#[derive(Clone)]
pub struct Admission {
    process: Option<Arc<Semaphore>>,
    connection: Option<Arc<Semaphore>>,
}

/// What an admitted request holds until its answer is written.
pub struct Admitted {
    _process: Option<OwnedSemaphorePermit>,
    _connection: Option<OwnedSemaphorePermit>,
}

impl Admission {
    /// Admits one request, or refuses it (and counts the refusal by the bound hit).
    pub fn try_admit(&self) -> Option<Admitted> {
        let connection = match &self.connection {
            None => None,
            Some(s) => match Arc::clone(s).try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => return refuse("connection_in_flight"),
            },
        };
        let process = match &self.process {
            None => None,
            Some(s) => match Arc::clone(s).try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => return refuse("in_flight"),
            },
        };
        Some(Admitted {
            _process: process,
            _connection: connection,
        })
    }
}

fn refuse<T>(reason: &'static str) -> Option<T> {
    metrics::counter!(m::OVERLOAD_REFUSED, "reason" => reason).increment(1);
    None
}

/// Load shedding in front of a remote upstream: at most `in_flight` calls at once and
/// `queued` more waiting for one of them; a call beyond both is refused at once.
pub struct Shedder {
    permits: Semaphore,
    /// Calls admitted (in flight or waiting).
    admitted: AtomicUsize,
    capacity: usize,
}

/// One admitted upstream call: its place (and, once it runs, its permit).
pub struct Ticket<'a> {
    _permit: SemaphorePermit<'a>,
    _place: Place<'a>,
}

/// A place among the admitted calls, given back when dropped (also when the waiting
/// call is cancelled).
struct Place<'a>(&'a AtomicUsize);

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Shedder {
    pub fn new(in_flight: usize, queued: usize) -> Shedder {
        Shedder {
            permits: Semaphore::new(in_flight.max(1)),
            admitted: AtomicUsize::new(0),
            capacity: in_flight.max(1).saturating_add(queued),
        }
    }

    /// Waits for a turn if there is room in the queue; None: shed (queue full).
    pub async fn enter(&self) -> Option<Ticket<'_>> {
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return refuse("upstream_queue");
        }
        let place = Place(&self.admitted);
        let permit = self.permits.acquire().await.ok()?;
        Some(Ticket {
            _permit: permit,
            _place: place,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_refuses_beyond_either_bound_and_frees_on_drop() {
        let gates = Gates::new(&Limits {
            max_in_flight: Some(2),
            max_in_flight_per_connection: Some(1),
            ..Limits::default()
        });
        let (a, b, c) = (gates.admission(), gates.admission(), gates.admission());
        let first = a.try_admit();
        assert!(first.is_some());
        assert!(a.try_admit().is_none(), "per-connection bound");
        let second = b.try_admit();
        assert!(second.is_some());
        assert!(c.try_admit().is_none(), "process bound");
        drop(first);
        assert!(c.try_admit().is_some());
        let off = Gates::new(&Limits::default()).admission();
        let many: Vec<_> = (0..1000).map(|_| off.try_admit()).collect();
        assert!(many.iter().all(Option::is_some));
    }

    #[tokio::test]
    async fn the_shedder_queues_up_to_its_bound_and_sheds_beyond() {
        let s = Arc::new(Shedder::new(1, 1));
        let running = s.enter().await;
        assert!(running.is_some());
        let waiter = {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.enter().await.is_some() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(s.enter().await.is_none(), "one running, one queued: shed");
        drop(running);
        assert!(matches!(waiter.await, Ok(true)));
        assert!(s.enter().await.is_some(), "room again");
    }
}
