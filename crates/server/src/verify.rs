//! Verification on ingest: every finished results file in the store, scored
//! again by this service's own scorer in the background
//! ([`fuelbench_runner::verify`]), so the board can say which rows
//! reproduce here. One file at a time, each on a sandbox slot it waits for
//! like any request: checking never holds a page, and never takes more
//! than one slot from evaluation.
//!
//! What was checked is kept by each file's version (its ETag, or its
//! length and time), in memory: a file is checked again when it changes,
//! and a restarted service checks the store again.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fuelbench_runner::store::Listed;
use fuelbench_runner::{Verification, VerificationState};
use fuelbench_sandbox::Interrupt;
use tokio_util::sync::CancellationToken;

use crate::AppState;

/// How long the verifier waits between listings when nothing asks sooner.
const LISTING_INTERVAL: Duration = Duration::from_secs(10);

/// What the verifier has found, by results file.
#[derive(Debug, Default)]
pub(crate) struct Verifications {
    checked: Mutex<HashMap<String, Checked>>,
    /// Raised when a page finds a file the verifier has not seen.
    wake: tokio::sync::Notify,
}

/// One results file as the verifier last saw it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct Checked {
    /// The version of the file that was checked.
    pub(crate) version: String,
    /// When, RFC 3339.
    pub(crate) checked_at: String,
    /// What came of it; `None` while the run is unfinished, which is
    /// checked when it is.
    pub(crate) verification: Option<Verification>,
}

impl Verifications {
    /// What is known of the file `name`, if it was looked at.
    pub(crate) fn get(&self, name: &str) -> Option<Checked> {
        fuelbench_stdx::lock(&self.checked).get(name).cloned()
    }

    /// What is known of version `version` of `name`: pending until that
    /// version is checked.
    pub(crate) fn verification(&self, name: &str, version: &str) -> Verification {
        match self.get(name) {
            Some(Checked {
                version: checked,
                verification: Some(verification),
                ..
            }) if checked == version => verification,
            Some(Checked {
                version: checked, ..
            }) if checked == version => {
                pending("its run is unfinished: it is checked once it ends")
            }
            Some(_) => {
                self.wake();
                pending("it changed since it was checked; it is checked again")
            }
            None => {
                // A page found a file the checker has not seen: look now.
                self.wake();
                pending("not checked yet")
            }
        }
    }

    /// Asks the verifier to list the store again now.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    fn is_current(&self, listed: &Listed) -> bool {
        fuelbench_stdx::lock(&self.checked)
            .get(&listed.name)
            .is_some_and(|checked| checked.version == listed.version)
    }

    fn keep_only(&self, listing: &[Listed]) {
        fuelbench_stdx::lock(&self.checked)
            .retain(|name, _| listing.iter().any(|listed| listed.name == *name));
    }
}

/// Checks each results file the store lists whose version is new, newest
/// first, until `stop` is cancelled.
pub(crate) async fn verify_store(state: AppState, stop: CancellationToken) {
    let verifications = Arc::clone(&state.inner.verifications);
    loop {
        // A store that cannot be listed now (a bucket out of reach) is
        // tried again at the next turn, forgetting nothing; pages say why
        // themselves.
        let listing = state
            .inner
            .store
            .listing()
            .await
            .unwrap_or_else(|_| Vec::new());
        if !listing.is_empty() {
            verifications.keep_only(&listing);
        }
        for listed in listing {
            if verifications.is_current(&listed) {
                continue;
            }
            let permit = tokio::select! {
                permit = Arc::clone(&state.inner.slots).acquire_owned() => permit,
                () = stop.cancelled() => return,
            };
            let Ok(permit) = permit else { return };
            let interrupt = Interrupt::new();
            let raise = {
                let (interrupt, stop) = (interrupt.clone(), stop.clone());
                tokio::spawn(async move {
                    stop.cancelled().await;
                    interrupt.raise();
                })
            };
            let worker = state.clone();
            let name = listed.name.clone();
            let checked = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                check(&worker, &name, &interrupt)
            })
            .await;
            raise.abort();
            if stop.is_cancelled() {
                return;
            }
            // Kept under the version that was read, which the listing may
            // have told differently: the next turn checks the newer one.
            let (verification, version) = match checked {
                Ok(Some(checked)) => checked,
                // The store was out of reach: the next turn tries again.
                Ok(None) => continue,
                Err(panic) => (
                    Some(unverifiable(format!("checking it failed: {panic}"))),
                    listed.version,
                ),
            };
            fuelbench_stdx::lock(&verifications.checked).insert(
                listed.name,
                Checked {
                    version,
                    checked_at: fuelbench_runner::now(),
                    verification,
                },
            );
        }
        tokio::select! {
            () = tokio::time::sleep(LISTING_INTERVAL) => {}
            () = verifications.wake.notified() => {}
            () = stop.cancelled() => return,
        }
    }
}

/// `name` scored again here, and the version of it that was read: no
/// verification while its run is unfinished; `None` when the store could
/// not be reached.
fn check(
    state: &AppState,
    name: &str,
    interrupt: &Interrupt,
) -> Option<(Option<Verification>, String)> {
    let inner = &state.inner;
    let (file, version) = match inner.store.store().results_versioned(name) {
        Ok(read) => read,
        Err(fuelbench_runner::Error::Store { .. }) => return None,
        Err(fuelbench_runner::Error::NotFound { .. }) => return None,
        Err(error) => {
            let version = inner
                .store
                .store()
                .listing()
                .ok()?
                .into_iter()
                .find(|listed| listed.name == name)?
                .version;
            return Some((
                Some(unverifiable(fuelbench_stdx::error_chain(&error))),
                version,
            ));
        }
    };
    if !file.complete {
        return Some((None, version));
    }
    let evaluator = inner.evaluator.interruptible(interrupt);
    let verification = fuelbench_runner::verify(
        &file,
        &evaluator,
        &inner.problems,
        &inner.suites,
        Path::new(&format!("{name}.json")),
    );
    Some((Some(verification), version))
}

pub(crate) fn pending(reason: &str) -> Verification {
    Verification {
        state: VerificationState::Pending,
        reasons: vec![reason.to_owned()],
        problems: Vec::new(),
        answers: 0,
    }
}

fn unverifiable(reason: String) -> Verification {
    Verification {
        state: VerificationState::Unverifiable,
        reasons: vec![reason],
        problems: Vec::new(),
        answers: 0,
    }
}
