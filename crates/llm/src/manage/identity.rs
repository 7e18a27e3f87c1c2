//! What a server says of itself, and the part of that which names the
//! server, build and model a figure belongs to.

use serde_json::Value;

use super::ServerKind;

/// What was true of the server when a model was benchmarked.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ServerIdentity {
    /// The kind of server, as detected or given.
    pub kind: ServerKind,
    /// The server's root URL, as the client uses it.
    pub base_url: String,
    /// `GET /props` (per model on a router): build, model path, context...
    pub props: Option<Value>,
    /// `GET /v1/models`.
    pub models: Option<Value>,
    /// The process listening on the server's port, when it is on this
    /// machine: its binary and the binary's hash.
    #[serde(default)]
    pub process: Option<crate::LocalProcess>,
}

impl ServerIdentity {
    /// The parts of it that say which server and model a figure belongs to.
    pub fn key(&self, model: &str) -> ServerKey {
        let prop = |name: &str| {
            self.props
                .as_ref()
                .and_then(|props| props.get(name))
                .and_then(Value::as_str)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        ServerKey {
            base_url: self.base_url.clone(),
            model: model.to_owned(),
            model_path: prop("model_path"),
            build: prop("build_info"),
            binary_sha256: self
                .process
                .as_ref()
                .and_then(|process| process.binary_sha256.clone()),
        }
    }
}

/// Which server, build and model a run measured, compact enough to keep on
/// a leaderboard row.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ServerKey {
    /// The server's root URL, as the client uses it.
    pub base_url: String,
    /// The model's name, as the run asked for it.
    pub model: String,
    /// From `/props`, where the server offers it (llama-server).
    pub model_path: Option<String>,
    /// `/props`' `build_info`.
    pub build: Option<String>,
    /// The sha256 of the server's binary, where the server runs on this machine.
    pub binary_sha256: Option<String>,
}

impl ServerKey {
    /// Whether two runs measured the same server binary, build and model:
    /// by what both servers say of themselves, else by URL and model name.
    pub fn same_server(&self, other: &ServerKey) -> bool {
        let agree = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        agree(&self.binary_sha256, &other.binary_sha256)
            && agree(&self.build, &other.build)
            && match (&self.model_path, &other.model_path) {
                (Some(a), Some(b)) => a == b,
                _ => self.base_url == other.base_url && self.model == other.model,
            }
    }
}
