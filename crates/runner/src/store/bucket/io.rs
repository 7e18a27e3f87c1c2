//! The store's own runtime, for blocking calls from any thread.

use std::future::Future;

/// A runtime of the store's own, on a thread of its own, so that a call may
/// block on the network from any thread, a runtime's worker included. It
/// stops when the store is dropped.
#[derive(Debug)]
pub(super) struct Io {
    handle: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Io {
    pub(super) fn start() -> std::io::Result<Io> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("fuelbench-store".into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        Ok(Io {
            handle,
            _stop: stop,
        })
    }

    /// Runs `work` on the store's runtime and waits for it.
    pub(super) fn wait<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> T {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = done.send(work.await);
        });
        result
            .recv()
            .expect("the store's runtime runs as long as the store")
    }
}
