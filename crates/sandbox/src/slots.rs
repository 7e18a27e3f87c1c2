//! Warm slots: where instances live, and how many may live at once.
//!
//! Every run is a fresh instance of the snapshot. With wasmtime's default
//! allocator, each instance maps the snapshot's memory image when it starts
//! and unmaps it when it ends, and the kernel faults in every page the run
//! touches, then throws them away: that, not the interpreter, was most of
//! what a run cost. The pooling allocator reserves a fixed number of slots
//! (address space for a memory and a table each) when the sandbox is built.
//! A slot keeps the image mapped copy-on-write between instances; when an
//! instance ends, the first [`Pool::keep_resident_bytes`] of its memory (the
//! whole snapshot, and room to grow) are copied back from the image, with no
//! system call and no page fault for the next instance, and what lies past
//! them is handed back to the kernel. The next instance in that slot starts
//! from exactly the snapshot's bytes, as a fresh mapping would: no memory,
//! global or table entry of an earlier instance survives (tested by
//! comparing a reused slot's whole memory with a never-used one's).
//!
//! A pool is a fixed size, and wasmtime refuses an instance past it. So the
//! sandbox counts the instances it has alive ([`Slots`]) and a run that finds
//! every slot taken waits for one: a thread holds at most one instance at a
//! time, so the wait always ends.

use std::sync::{Condvar, Mutex, MutexGuard};

use wasmtime::{Enabled, InstanceAllocationStrategy, PoolingAllocationConfig};

/// The most table elements an instance may have. CPython's function table
/// has 4,167 and never grows; every slot keeps this many pointers resident
/// and clears them after each instance, so the bound stays close.
pub(crate) const MAX_TABLE_ELEMENTS: usize = 10_000;

/// How the pool is sized; see [`SandboxBuilder`](crate::SandboxBuilder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pool {
    /// Instances alive at once. Each slot reserves 4 GiB of address space
    /// (a 32-bit memory needs no bounds checks then), which costs nothing
    /// until a page is touched; only slots that have been used hold memory.
    pub(crate) slots: usize,
    /// Bytes at the start of each slot's memory that stay resident between
    /// instances and are reset by copying from the image instead of by the
    /// kernel. Copying the 10 MiB snapshot back costs a few hundred
    /// microseconds and no system call; handing pages to the kernel instead
    /// costs a page fault each when the next run touches them again, and a
    /// TLB shootdown that stalls every other thread running a sandbox.
    pub(crate) keep_resident_bytes: usize,
    /// False: wasmtime's default allocator, which maps and unmaps every
    /// instance's memory; kept so that `fuelbench bench sandbox` can show
    /// what the pool saves, on the same machine in the same run.
    pub(crate) pooled: bool,
}

impl Pool {
    /// Slots for a machine with `parallelism` cores: a sandbox is called from
    /// rayon's threads (one per core) and from a service's own threads (its
    /// slots, one per core by default), and a test binary's threads beside
    /// them; four per core, never fewer than 16, covers all of them, and an
    /// unused slot is only address space.
    pub(crate) fn for_parallelism(parallelism: usize) -> Pool {
        Pool {
            slots: (parallelism * 4).max(16),
            keep_resident_bytes: DEFAULT_KEEP_RESIDENT,
            pooled: true,
        }
    }

    pub(crate) fn strategy(self) -> InstanceAllocationStrategy {
        if !self.pooled {
            return InstanceAllocationStrategy::OnDemand;
        }
        let slots = u32::try_from(self.slots).unwrap_or(u32::MAX);
        let mut pool = PoolingAllocationConfig::new();
        // Linux's PAGEMAP_SCAN would tell which pages an instance dirtied,
        // but wasmtime 48 reads at most 32 runs of them and hands the rest of
        // memory back to the kernel; a `pass` dirties 82 runs, so the rest is
        // faulted in again, and the kernel's TLB shootdowns then stall the
        // other thread. Measured with it on: evaluate 32 ms instead of 14,
        // selftest 16 s instead of 10.6. Copying the whole resident part
        // back takes no system call at all.
        pool.pagemap_scan(Enabled::No);
        pool.total_core_instances(slots)
            .total_memories(slots)
            .total_tables(slots)
            .table_elements(MAX_TABLE_ELEMENTS)
            .linear_memory_keep_resident(self.keep_resident_bytes)
            .table_keep_resident(MAX_TABLE_ELEMENTS * size_of::<usize>())
            // A freed slot is reused before an unused one is touched, so the
            // slots that hold memory are as many as ever ran at once.
            .max_unused_warm_slots(0);
        InstanceAllocationStrategy::Pooling(pool)
    }
}

/// See [`Pool::keep_resident_bytes`]: the snapshot's 10.25 MiB with room
/// to grow. `fuelbench bench sandbox --keep-resident-mib` measures start-up
/// for several sizes; below the snapshot's size, start-up takes page faults
/// again (0.8 ms at 0 MiB against 0.5 ms at 16 here).
pub(crate) const DEFAULT_KEEP_RESIDENT: usize = 16 << 20;

/// A count of free slots that a run takes one of, waiting while there is
/// none.
#[derive(Debug)]
pub(crate) struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    pub(crate) fn new(total: usize) -> Slots {
        Slots {
            free: Mutex::new(total.max(1)),
            freed: Condvar::new(),
        }
    }

    /// A slot, held until the permit drops.
    pub(crate) fn take(&self) -> SlotPermit<'_> {
        let mut free = self.lock();
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *free -= 1;
        SlotPermit { slots: self }
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        // The count is changed only by the two lines that hold the lock, and
        // neither can panic: a poisoned lock still holds a true count.
        fuelbench_stdx::lock(&self.free)
    }
}

/// One taken slot; dropping it gives it back.
#[derive(Debug)]
pub(crate) struct SlotPermit<'a> {
    slots: &'a Slots,
}

impl Drop for SlotPermit<'_> {
    fn drop(&mut self) {
        *self.slots.lock() += 1;
        self.slots.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taker_waits_for_a_slot_to_be_given_back() {
        let slots = Slots::new(1);
        let first = slots.take();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let _second = slots.take();
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!waiter.is_finished(), "took a slot that was not free");
            drop(first);
            waiter
                .join()
                .expect("the waiter ends once the slot is free");
        });
        assert_eq!(*slots.lock(), 1);
    }

    #[test]
    fn slots_grow_with_cores_from_a_floor() {
        assert_eq!(Pool::for_parallelism(1).slots, 16);
        assert_eq!(Pool::for_parallelism(8).slots, 32);
    }
}
