//! One chat completion over `/v1/chat/completions`, streamed, with timeouts
//! that follow the work and a failure class for every way it can go wrong.
//!
//! - `wire`: the request and the completion it folds into.
//! - `stream`: [`ChatStream`], the one SSE reader, yielding each event with
//!   its arrival time.
//! - `client`: [`ChatClient`], its configuration and retries.
//! - `failure`: [`FailureClass`] and [`ChatFailure`].

mod client;
mod failure;
mod stream;
mod wire;

pub(crate) use self::client::read_capped;
pub use self::client::{
    CaCertificates, ChatClient, ClientConfig, RetryPolicy, Timeouts, normalize_base_url,
};
pub(crate) use self::failure::transport_failure;
pub use self::failure::{ChatFailure, FailureClass, clip};
pub use self::stream::{ChatStream, Chunk, StreamEvent};
pub use self::wire::{ChatRequest, Completion, Message, Timings, Usage};
