//! Key choice: uniform, or zipfian with exponent `s` over `n` ranks (rank 0 the most
//! popular) by inverse transform on a precomputed cumulative table — exact, O(log n) per
//! draw, 8 bytes per key.

use rand::Rng;

/// Draws key indexes in `0..n`.
#[derive(Debug, Clone)]
pub enum KeyDist {
    Uniform { n: u64 },
    Zipf { cdf: Vec<f64> },
}

impl KeyDist {
    /// Uniform over `0..n` (`n` ≥ 1).
    pub fn uniform(n: u64) -> Self {
        KeyDist::Uniform { n: n.max(1) }
    }

    /// Zipfian over `0..n`: P(rank k) ∝ 1 / (k + 1)^s. `s` = 0 is uniform.
    pub fn zipf(n: u64, s: f64) -> Self {
        let n = n.max(1);
        let mut cdf = Vec::with_capacity(n as usize);
        let mut total = 0.0;
        for k in 0..n {
            total += 1.0 / ((k + 1) as f64).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        KeyDist::Zipf { cdf }
    }

    /// `zipf(n, s)` when `s` is given, else `uniform(n)`.
    pub fn new(n: u64, zipf: Option<f64>) -> Self {
        match zipf {
            Some(s) => Self::zipf(n, s),
            None => Self::uniform(n),
        }
    }

    /// How many keys the distribution draws from.
    #[cfg(test)]
    fn len(&self) -> u64 {
        match self {
            KeyDist::Uniform { n } => *n,
            KeyDist::Zipf { cdf } => cdf.len() as u64,
        }
    }

    /// One key index.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match self {
            KeyDist::Uniform { n } => rng.random_range(0..*n),
            KeyDist::Zipf { cdf } => {
                let u: f64 = rng.random();
                let i = cdf.partition_point(|&c| c < u);
                i.min(cdf.len() - 1) as u64
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    fn counts(d: &KeyDist, draws: usize) -> Vec<u64> {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut c = vec![0u64; d.len() as usize];
        for _ in 0..draws {
            c[d.sample(&mut rng) as usize] += 1;
        }
        c
    }

    #[test]
    fn zipf_one_matches_harmonic_frequencies() {
        let n = 100;
        let draws = 200_000;
        let c = counts(&KeyDist::zipf(n, 1.0), draws);
        let h: f64 = (1..=n).map(|k| 1.0 / k as f64).sum();
        for k in [0usize, 1, 4, 9, 49] {
            let expected = draws as f64 / ((k + 1) as f64 * h);
            let got = c[k] as f64;
            assert!(
                (got - expected).abs() < 0.05 * expected + 30.0,
                "rank {k}: got {got}, expected {expected}"
            );
        }
        assert!(c[0] > c[1] && c[1] > c[9] && c[9] > c[99]);
    }

    #[test]
    fn zipf_zero_is_uniform_and_in_range() {
        let c = counts(&KeyDist::zipf(10, 0.0), 100_000);
        assert_eq!(c.len(), 10);
        for x in c {
            assert!((9_000..11_000).contains(&x), "{x}");
        }
    }

    #[test]
    fn skew_grows_with_the_exponent() {
        let top = |s| counts(&KeyDist::zipf(1000, s), 50_000)[0];
        assert!(top(1.2) > top(0.99));
        assert!(top(0.99) > top(0.5));
    }

    #[test]
    fn same_seed_same_keys() {
        let d = KeyDist::new(10_000, Some(0.99));
        let mut a = SmallRng::seed_from_u64(1);
        let mut b = SmallRng::seed_from_u64(1);
        let xs: Vec<u64> = (0..100).map(|_| d.sample(&mut a)).collect();
        let ys: Vec<u64> = (0..100).map(|_| d.sample(&mut b)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|&x| x < 10_000));
    }

    #[test]
    fn uniform_covers_every_key() {
        let c = counts(&KeyDist::uniform(5), 10_000);
        assert!(c.iter().all(|&x| x > 1_500));
    }
}
