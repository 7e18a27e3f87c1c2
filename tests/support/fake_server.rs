//! A small scripted HTTP server for fault injection: 500s, stalls, dropped
//! connections, malformed chunks, reasoning-only answers, a router whose
//! model disappears. It speaks just enough HTTP/1.1 (one request per
//! connection, chunked replies) for reqwest. It never stands in for the real
//! server in the end-to-end test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use fuelbench_problems::Problem;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub body: Value,
}

impl Request {
    /// The chat's first user message: the problem's prompt.
    pub(crate) fn prompt(&self) -> Option<&str> {
        self.body["messages"]
            .as_array()?
            .iter()
            .find(|m| m["role"] == "user")?
            .get("content")?
            .as_str()
    }

    /// The problem this chat is about, found by its prompt.
    pub(crate) fn problem<'a>(&self, problems: &'a [Problem]) -> Option<&'a Problem> {
        let prompt = self.prompt()?;
        problems.iter().find(|p| p.prompt == prompt)
    }

    /// A refactor request: the chat goes on after the model's first answer.
    pub(crate) fn is_refactor(&self) -> bool {
        self.body["messages"]
            .as_array()
            .is_some_and(|m| m.len() > 3)
    }

    pub(crate) fn is_chat(&self) -> bool {
        self.method == "POST" && self.path == "/v1/chat/completions"
    }

    /// The readiness probe's one-token request.
    pub(crate) fn is_probe(&self) -> bool {
        self.is_chat() && self.body["max_tokens"] == 1
    }
}

/// How the stream ends.
#[derive(Debug, Clone)]
pub(crate) enum End {
    /// `finish_reason`, usage, timings, `[DONE]`, and the last chunk.
    Done { finish_reason: &'static str },
    /// Nothing more for this long, then the connection closes.
    Stall(Duration),
    /// The connection closes mid-body.
    Drop,
}

#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// An event stream of `content` (or `reasoning_content`) deltas.
    Stream {
        text: String,
        reasoning: bool,
        /// Between chunks.
        gap: Duration,
        end: End,
    },
    /// A JSON body with this status.
    Json(u16, Value),
    /// A stream whose second event is not JSON.
    Malformed,
    /// A recorded event stream, sent event by event as it was recorded.
    Recorded(String),
}

impl Reply {
    pub(crate) fn answer(text: impl Into<String>) -> Reply {
        Reply::Stream {
            text: text.into(),
            reasoning: false,
            gap: Duration::ZERO,
            end: End::Done {
                finish_reason: "stop",
            },
        }
    }

    /// A fenced block, as a model answers.
    pub(crate) fn code(code: &str) -> Reply {
        Reply::answer(format!("Here it is.\n\n```python\n{code}\n```\n"))
    }

    pub(crate) fn error(status: u16, message: &str) -> Reply {
        Reply::Json(
            status,
            json!({ "error": { "code": status, "message": message } }),
        )
    }
}

/// Tokens the fake says it generated for `text`: one per four bytes, at a
/// fixed 20 tok/s, so speeds in results are the same every run.
fn usage_and_timings(text: &str) -> (Value, Value) {
    let tokens = (text.len() / 4).max(1) as u64;
    (
        json!({ "prompt_tokens": 100, "completion_tokens": tokens, "total_tokens": 100 + tokens,
                "prompt_tokens_details": { "cached_tokens": 0 } }),
        json!({ "prompt_n": 100, "prompt_ms": 100.0, "predicted_n": tokens,
                "predicted_ms": tokens as f64 * 50.0, "predicted_per_second": 20.0 }),
    )
}

pub(crate) type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

pub(crate) struct FakeServer {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    port: u16,
}

impl FakeServer {
    pub(crate) fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("bound").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let handler = Arc::clone(&handler);
                    let requests = Arc::clone(&requests);
                    std::thread::spawn(move || serve(stream, &*handler, &requests));
                }
            })
        };
        FakeServer {
            base_url: format!("http://127.0.0.1:{port}"),
            requests,
            stop,
            accept: Some(accept),
            port,
        }
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("not poisoned").clone()
    }

    /// Chat requests other than readiness probes.
    pub(crate) fn chats(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.is_chat() && !r.is_probe())
            .collect()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve(stream: TcpStream, handler: &Handler, requests: &Mutex<Vec<Request>>) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    requests.lock().expect("not poisoned").push(request.clone());
    let reply = handler(&request);
    let _ = write_reply(stream, &request, reply);
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

fn write_reply(mut stream: TcpStream, request: &Request, reply: Reply) -> std::io::Result<()> {
    let chunk = |stream: &mut TcpStream, data: &str| -> std::io::Result<()> {
        write!(stream, "{:x}\r\n{data}\r\n", data.len())?;
        stream.flush()
    };
    match reply {
        Reply::Json(status, body) => {
            let body = body.to_string();
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Reply::Recorded(text) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )?;
            for event in text.split_inclusive("\n\n") {
                chunk(&mut stream, event)?;
            }
            chunk(&mut stream, "")?;
        }
        Reply::Malformed => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )?;
            chunk(&mut stream, &event(&delta("content", "def f(")))?;
            chunk(
                &mut stream,
                "data: {\"choices\": [{\"delta\": {\"content\": \"oops\"\n\n",
            )?;
            chunk(&mut stream, "data: [DONE]\n\n")?;
            chunk(&mut stream, "")?;
        }
        Reply::Stream {
            text,
            reasoning,
            gap,
            end,
        } => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )?;
            let field = if reasoning {
                "reasoning_content"
            } else {
                "content"
            };
            chunk(
                &mut stream,
                &event(&json!({"choices": [{"delta": {"role": "assistant"}}]})),
            )?;
            let pieces = split_text(&text, 8);
            for (index, piece) in pieces.iter().enumerate() {
                if index > 0 && !gap.is_zero() {
                    std::thread::sleep(gap);
                }
                chunk(&mut stream, &event(&delta(field, piece)))?;
                let halfway = index + 1 == pieces.len().div_ceil(2);
                match &end {
                    End::Stall(pause) if halfway => {
                        std::thread::sleep(*pause);
                        let _ = stream.shutdown(Shutdown::Both);
                        return Ok(());
                    }
                    End::Drop if halfway => {
                        let _ = stream.shutdown(Shutdown::Both);
                        return Ok(());
                    }
                    _ => {}
                }
            }
            if let End::Done { finish_reason } = end {
                let (usage, timings) = usage_and_timings(&text);
                let model = request.body["model"].clone();
                chunk(
                    &mut stream,
                    &event(
                        &json!({"model": model, "choices": [{"delta": {}, "finish_reason": finish_reason}]}),
                    ),
                )?;
                chunk(
                    &mut stream,
                    &event(
                        &json!({"model": model, "choices": [], "usage": usage, "timings": timings}),
                    ),
                )?;
                chunk(&mut stream, "data: [DONE]\n\n")?;
                chunk(&mut stream, "")?;
            }
        }
    }
    stream.flush()
}

fn delta(field: &str, text: &str) -> Value {
    json!({ "choices": [{ "delta": { field: text } }] })
}

fn event(value: &Value) -> String {
    format!("data: {value}\n\n")
}

fn split_text(text: &str, parts: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(parts).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}
