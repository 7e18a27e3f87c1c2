//! A small cache of the harness's work that depends on a seed.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use fuelbench_stdx::lock;

use crate::{Error, Result};

/// Work of the harness that depends on a seed, by problem id, the source it
/// ran and the seed, computed once and kept for the most recent
/// [`SeededCache::CAPACITY`] keys: a benchmark run uses one seed throughout,
/// while each one-off evaluation draws its own, so a map of every seed would
/// grow with every request. A harness failure is kept as its message; one
/// that came of the host (its wall clock under load, a host error) is not:
/// it must not fail the problem for good.
///
/// The work runs outside any lock, so it may use every core (rayon) without
/// a stolen task waiting on a lock its own thread holds; two callers racing
/// on one key both compute it, and the first to finish is kept.
#[derive(Debug)]
pub(super) struct SeededCache<V> {
    cells: Mutex<Cells<V>>,
}

type SeededKey = (String, String, u64);

/// The values by key, and the keys oldest first.
type Cells<V> = (HashMap<SeededKey, Result<V, String>>, VecDeque<SeededKey>);

impl<V: Clone> SeededCache<V> {
    const CAPACITY: usize = 64;

    /// The value for `key`, from `compute` the first time, which answers
    /// `Err((why, transient))` when it fails.
    pub(super) fn get_or_compute(
        &self,
        key: SeededKey,
        compute: impl FnOnce() -> Result<V, (String, bool)>,
    ) -> Result<V> {
        if let Some(value) = lock(&self.cells).0.get(&key) {
            return value.clone().map_err(Error::Harness);
        }
        let value = match compute() {
            Ok(value) => Ok(value),
            Err((why, true)) => return Err(Error::Harness(why)),
            Err((why, false)) => Err(why),
        };
        let mut cells = lock(&self.cells);
        let (map, order) = &mut *cells;
        if !map.contains_key(&key) {
            if order.len() >= Self::CAPACITY
                && let Some(oldest) = order.pop_front()
            {
                map.remove(&oldest);
            }
            order.push_back(key.clone());
            map.insert(key.clone(), value);
        }
        map[&key].clone().map_err(Error::Harness)
    }
}

impl<V> Default for SeededCache<V> {
    fn default() -> Self {
        SeededCache {
            cells: Mutex::default(),
        }
    }
}
