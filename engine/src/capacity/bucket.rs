//! A token bucket on the engine's clock: refilled at `rate` units per second, holding at
//! most `capacity` units; starts full. A balance may go below zero (debt) down to
//! `-capacity` when a read costs more than the estimate it was admitted on.

/// One bucket's state. Times are the clock's milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    rate: f64,
    capacity: f64,
    balance: f64,
    at_ms: i64,
}

impl Bucket {
    /// A full bucket refilled at `rate` units/s holding `capacity` units.
    pub fn full(rate: f64, capacity: f64, now_ms: i64) -> Bucket {
        Bucket {
            rate,
            capacity,
            balance: capacity,
            at_ms: now_ms,
        }
    }

    /// Brings the balance up to `now_ms`; a changed rate or capacity (UpdateTable) takes
    /// effect from now, keeping the balance within the new capacity.
    pub fn refill(&mut self, rate: f64, capacity: f64, now_ms: i64) {
        if now_ms > self.at_ms {
            let secs = (now_ms - self.at_ms) as f64 / 1000.0;
            self.balance = (self.balance + self.rate * secs).min(self.capacity);
            self.at_ms = now_ms;
        }
        if rate != self.rate || capacity != self.capacity {
            self.rate = rate;
            self.capacity = capacity;
            self.balance = self.balance.min(capacity);
        }
    }

    /// Whether `units` fit the balance now.
    pub fn fits(&self, units: f64) -> bool {
        self.balance >= units
    }

    /// Takes `units` (the balance may fall to `-capacity`, no lower).
    pub fn take(&mut self, units: f64) {
        self.balance = (self.balance - units).max(-self.capacity);
    }

    pub fn balance(&self) -> f64 {
        self.balance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refills_at_rate_up_to_capacity() {
        let mut b = Bucket::full(5.0, 1500.0, 0);
        b.take(1500.0);
        assert!(!b.fits(1.0));
        b.refill(5.0, 1500.0, 1_000);
        assert_eq!(b.balance(), 5.0);
        b.refill(5.0, 1500.0, 10_000_000);
        assert_eq!(b.balance(), 1500.0);
    }

    #[test]
    fn debt_is_bounded_and_capacity_changes_clamp() {
        let mut b = Bucket::full(1.0, 300.0, 0);
        b.take(10_000.0);
        assert_eq!(b.balance(), -300.0);
        let mut c = Bucket::full(10.0, 3000.0, 0);
        c.refill(1.0, 300.0, 0);
        assert_eq!(c.balance(), 300.0);
    }

    #[test]
    fn time_going_backwards_changes_nothing() {
        let mut b = Bucket::full(1.0, 300.0, 5_000);
        b.take(300.0);
        b.refill(1.0, 300.0, 1_000);
        assert_eq!(b.balance(), 0.0);
    }
}
