//! Stopping a sandbox's work from outside: a client that went away, a
//! request past its deadline.
//!
//! An [`Interrupt`] is a flag shared between whoever may stop the work and
//! every instance a [`Sandbox::interruptible`](crate::Sandbox::interruptible)
//! starts. A running guest sees it at the next epoch tick (10 ms) or as
//! soon as it sleeps; an instance is never started once it is set. Either
//! way the caller gets [`Error::Interrupted`](crate::Error::Interrupted),
//! never a verdict: how far a run got when it was stopped depends on the
//! host's timing, and a verdict must not.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared stop flag; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    raised: Arc<AtomicBool>,
    /// The interrupt this one also answers to (see [`Interrupt::child`]).
    parent: Option<Arc<Interrupt>>,
}

impl Interrupt {
    /// An interrupt not yet raised, answering to no parent.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// An interrupt raised by its own [`Interrupt::raise`] or by this
    /// one's: for part of a piece of work that may be stopped alone, as
    /// well as with the whole.
    pub fn child(&self) -> Interrupt {
        Interrupt {
            raised: Arc::default(),
            parent: Some(Arc::new(self.clone())),
        }
    }

    /// Stops every run under this interrupt, now and from now on.
    pub fn raise(&self) {
        self.raised.store(true, Ordering::Release);
    }

    /// Whether it, or any interrupt it is a child of, has been raised.
    pub fn is_raised(&self) -> bool {
        self.raised.load(Ordering::Acquire)
            || self
                .parent
                .as_ref()
                .is_some_and(|parent| parent.is_raised())
    }
}

/// What a guest call fails with when its interrupt was raised; told apart
/// from the wall-clock trap by its type.
#[derive(Debug)]
pub(crate) struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted from outside")
    }
}

impl std::error::Error for Interrupted {}

#[cfg(test)]
mod tests {
    use super::Interrupt;

    /// A child stops with its parent, and alone; its parent never with it.
    #[test]
    fn a_child_answers_to_its_parent_and_to_itself() {
        let parent = Interrupt::new();
        let child = parent.child();
        child.raise();
        assert!(child.is_raised() && !parent.is_raised());
        let other = parent.child();
        assert!(!other.is_raised());
        parent.raise();
        assert!(other.is_raised());
    }
}
