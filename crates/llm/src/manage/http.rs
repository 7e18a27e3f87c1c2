//! The server's small JSON routes: management calls, `/tokenize` and
//! `/apply-template`, each bounded in size and time.

use std::time::Duration;

use serde_json::Value;

use fuelbench_stdx::error_chain;

use crate::chat::{ChatClient, read_capped};
use crate::{Error, Result};

/// Management calls are small JSON; 4 MiB is generous for a model list.
const MANAGE_BODY_CAP: usize = 4 << 20;
/// A management call does no generation; a minute is long.
const MANAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// How many tokens `text` is to the server (`/tokenize`: llama-server's, or vLLM's).
pub async fn tokenize(client: &ChatClient, text: &str) -> Result<usize> {
    // llama-server reads `content`, vLLM `prompt`; neither adds a BOS here.
    let body = serde_json::json!({
        "content": text, "prompt": text, "add_special": false, "add_special_tokens": false,
    });
    let answer = post_json(client, "/tokenize", &body).await?;
    answer
        .get("tokens")
        .and_then(Value::as_array)
        .map(Vec::len)
        .ok_or_else(|| Error::Protocol("/tokenize answered without `tokens`".into()))
}

/// The prompt text `messages` become through the server's chat template
/// (llama-server's `/apply-template`); `None` where the server has no such
/// route.
pub async fn apply_template(client: &ChatClient, messages: &[crate::Message]) -> Option<String> {
    let body = serde_json::json!({ "messages": messages });
    let answer = post_json(client, "/apply-template", &body).await.ok()?;
    answer
        .get("prompt")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub(super) async fn get_json(client: &ChatClient, path: &str) -> Result<Value> {
    let request = client.authorized(client.http().get(client.url(path)));
    send_json(client, path, request).await
}

pub(super) async fn post_json(client: &ChatClient, path: &str, body: &Value) -> Result<Value> {
    let request = client
        .authorized(client.http().post(client.url(path)))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string());
    send_json(client, path, request).await
}

async fn send_json(
    client: &ChatClient,
    path: &str,
    request: reqwest::RequestBuilder,
) -> Result<Value> {
    let what = || format!("call {}{path}", client.config().base_url);
    let response = tokio::time::timeout(MANAGE_TIMEOUT, request.send())
        .await
        .map_err(|_| Error::Protocol(format!("{} took over {MANAGE_TIMEOUT:?}", what())))?
        .map_err(|error| Error::Request {
            what: what(),
            failure: crate::chat::transport_failure(&error),
        })?;
    let status = response.status();
    let text = read_capped(response, MANAGE_BODY_CAP)
        .await
        .map_err(|failure| Error::Request {
            what: what(),
            failure,
        })?;
    if !status.is_success() {
        return Err(Error::Status {
            what: what(),
            status: status.as_u16(),
            body: text.chars().take(300).collect(),
        });
    }
    serde_json::from_str(&text).map_err(|error| {
        Error::Protocol(format!(
            "{} answered with something not JSON: {}",
            what(),
            error_chain(&error)
        ))
    })
}
