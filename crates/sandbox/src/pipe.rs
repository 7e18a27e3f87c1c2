//! A bounded in-memory stdout/stderr that remembers whether it overflowed.
//!
//! wasmtime-wasi's `MemoryOutputPipe` traps too, but the host can only tell
//! its overflow from any other trap by the message; this one keeps the first
//! `capacity` bytes, sets a flag the sandbox reads back, and then traps, so
//! the run ends at once as `output_overflow`.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

#[derive(Debug, Clone)]
pub(crate) struct CappedPipe {
    shared: Arc<Mutex<Buffer>>,
}

#[derive(Debug)]
struct Buffer {
    bytes: Vec<u8>,
    capacity: usize,
    overflowed: bool,
}

/// p1's `fd_write` hands the stream at most 4 KiB at a time; advertising that
/// much keeps writes whole, so an overflow is seen by `write`, not hidden as a
/// short write the guest would retry.
const WRITE_PERMIT: usize = 4096;

impl CappedPipe {
    pub(crate) fn new(capacity: usize) -> Self {
        CappedPipe {
            shared: Arc::new(Mutex::new(Buffer {
                bytes: Vec::new(),
                capacity,
                overflowed: false,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A poisoned lock only means another write panicked; the bytes are
        // still the bytes.
        fuelbench_stdx::lock(&self.shared)
    }

    /// Appends what fits; returns false when some of `data` did not.
    fn append(&self, data: &[u8]) -> bool {
        let mut buffer = self.lock();
        let room = buffer.capacity - buffer.bytes.len();
        let taken = data.len().min(room);
        buffer.bytes.extend_from_slice(&data[..taken]);
        if taken < data.len() {
            buffer.overflowed = true;
        }
        !buffer.overflowed
    }

    pub(crate) fn overflowed(&self) -> bool {
        self.lock().overflowed
    }

    pub(crate) fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.lock().bytes)
    }
}

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        if self.append(&bytes) {
            Ok(())
        } else {
            Err(StreamError::Trap(wasmtime::format_err!(
                "output cap reached"
            )))
        }
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.append(data) {
            Poll::Ready(Ok(data.len()))
        } else {
            Poll::Ready(Err(std::io::Error::other("output cap reached")))
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_fits_and_flags_the_rest() {
        let pipe = CappedPipe::new(5);
        assert!(pipe.append(b"abc"));
        assert!(!pipe.overflowed());
        assert!(!pipe.append(b"defg"));
        assert!(pipe.overflowed());
        assert_eq!(pipe.take(), b"abcde");
    }

    #[test]
    fn exactly_full_is_not_an_overflow() {
        let pipe = CappedPipe::new(3);
        assert!(pipe.append(b"abc"));
        assert!(pipe.append(b""));
        assert!(!pipe.overflowed());
    }
}
