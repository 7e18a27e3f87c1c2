//! The results store as handlers read it: each read on tokio's blocking
//! pool, a few at a time, so neither the async workers nor memory wait on
//! many large parses. The store itself, and what it holds, is the
//! runner's ([`fuelbench_runner::Store`]).

use std::sync::Arc;

use fuelbench_runner::leaderboard::Board;
use fuelbench_runner::store::Listed;
use fuelbench_runner::{ResultsFile, ResultsHead, Store};
use tokio::sync::Semaphore;

use crate::ApiError;

#[derive(Debug, Clone)]
pub(crate) struct StoreReader {
    store: Arc<dyn Store>,
    /// Reads at once, each on the blocking pool.
    readers: Arc<Semaphore>,
}

/// Results-file reads at once: one per core of a small machine.
const READERS: usize = 2;

impl StoreReader {
    pub(crate) fn new(store: Arc<dyn Store>) -> StoreReader {
        StoreReader {
            store,
            readers: Arc::new(Semaphore::new(READERS)),
        }
    }

    /// Runs `read` on tokio's blocking pool once a reader's place is free.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&dyn Store) -> fuelbench_runner::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = Arc::clone(&self.store);
        Ok(crate::off_workers(&self.readers, move || read(&*store)).await??)
    }

    pub(crate) async fn board(&self) -> Result<Board, ApiError> {
        self.read(|store| store.board()).await
    }

    pub(crate) async fn heads(&self) -> Result<Vec<(String, ResultsHead)>, ApiError> {
        self.read(|store| store.heads()).await
    }

    /// The store itself, for work already off the async workers.
    pub(crate) fn store(&self) -> &dyn Store {
        &*self.store
    }

    pub(crate) async fn listing(&self) -> Result<Vec<Listed>, ApiError> {
        self.read(|store| store.listing()).await
    }

    pub(crate) async fn names(&self) -> Result<Vec<String>, ApiError> {
        self.read(|store| store.names()).await
    }

    pub(crate) async fn results(&self, name: &str) -> Result<ResultsFile, ApiError> {
        let name = name.to_owned();
        self.read(move |store| store.results(&name)).await
    }
}
