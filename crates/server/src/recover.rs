//! No panic reaches a client. A handler that panics is answered with the
//! API's 500 and a request id, the log gets a line with the same id, and
//! the connection stays up for the client's next request. And the one
//! place that logs what an answer kept from its client ([`HostDetail`]).
//!
//! Panics are bugs, and the code avoids them (no slicing of text from
//! outside, no `unwrap` on it); this is the net under whatever was missed.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use crate::ApiError;
use crate::error::HostDetail;

pub(crate) async fn guard_requests(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let payload = match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => {
            if let Some(HostDetail(detail)) = response.extensions().get::<HostDetail>() {
                eprintln!("fuelbench serve: {method} {path}: {detail}");
            }
            return response;
        }
        Err(payload) => payload,
    };
    let id = request_id();
    let what = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_owned());
    eprintln!("fuelbench serve: request {id} ({method} {path}) panicked: {what}");
    let mut response = ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "host_error",
        format!("the server failed on this request; its log says why under request {id}"),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Random, so it says nothing about the process; a count where the
/// system has no randomness to give.
fn request_id() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = COUNT.fetch_add(1, Ordering::Relaxed).to_le_bytes();
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::time::Duration;

    use axum::Router;
    use axum::routing::get;
    use tokio_util::sync::CancellationToken;

    use super::*;

    async fn boom(uri: axum::http::Uri) -> String {
        // Slicing text from the request by bytes: the kind of bug meant.
        let path = uri.path().to_owned() + "é";
        path[..path.len() - 1].to_owned()
    }

    /// Over a real socket: the panicking request gets the error shape and an
    /// id, and the same connection then serves the next request.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_handler_is_a_500_and_the_connection_stays_up() {
        let app = Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" }))
            .layer(axum::middleware::from_fn(guard_requests));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("bound");
        let stop = CancellationToken::new();
        let config = crate::Config::default();
        let served = tokio::spawn({
            let stop = stop.clone();
            async move { crate::listen::serve_connections(listener, app, &config, stop).await }
        });
        let answers = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connects");
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("a time-out");
            let mut answers = Vec::new();
            for path in ["/boom", "/fine"] {
                write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("sent");
                let mut buffer = vec![0; 4096];
                let read = stream
                    .read(&mut buffer)
                    .expect("an answer on the same connection");
                answers.push(String::from_utf8_lossy(&buffer[..read]).into_owned());
            }
            answers
        })
        .await
        .expect("no panic in the client");
        stop.cancel();
        served.await.expect("the server ends");

        let (boom, fine) = (&answers[0], &answers[1]);
        assert!(boom.starts_with("HTTP/1.1 500"), "{boom}");
        assert!(boom.contains("x-request-id: "), "{boom}");
        let body = boom.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        let body: serde_json::Value = serde_json::from_str(body).expect("the API's error shape");
        assert_eq!(body["error"], "host_error");
        assert!(
            !body.to_string().contains("the handler's own bug"),
            "{body}"
        );
        assert!(
            fine.starts_with("HTTP/1.1 200") && fine.ends_with("fine"),
            "{fine}"
        );
    }
}
