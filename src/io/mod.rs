//! Asynchronous I/O on the gorun reactor: [`Async`] wraps any non-blocking
//! file descriptor; `gorun::net` builds the socket types on it.
//!
//! Streams implement the `futures::io` traits (`AsyncRead`, `AsyncWrite`),
//! so `futures::io::{AsyncReadExt, AsyncWriteExt}` and every adaptor built
//! on them work unchanged.

mod async_fd;

pub use async_fd::Async;
