//! One model at a time: what a server has loaded, loading and unloading,
//! readiness, and the machine's memory around them.
//!
//! Three kinds of server are managed: a llama.cpp router (`GET /models`,
//! `POST /models/load`, `POST /models/unload`), Ollama (`/api/ps`,
//! `/api/tags`, unload by `keep_alive: 0`) and a plain single-model server,
//! where there is nothing to manage. [`Manager::begin`] and
//! [`Manager::end`] wrap a benchmark of one model; nothing here unloads in
//! between.

mod http;
mod identity;
mod memory;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::chat::{ChatClient, ChatRequest, Message};
use crate::{Error, Result};

pub use http::{apply_template, tokenize};
use http::{get_json, post_json};
pub use identity::{ServerIdentity, ServerKey};
pub use memory::{MemoryBaseline, mem_available};

/// Which kind of server a [`Manager`] talks to, and so how it lists, loads and
/// unloads models.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    /// llama.cpp `llama-server` in router mode.
    Router,
    /// Ollama: models listed by `/api/tags` and `/api/ps`, loaded and unloaded by
    /// `keep_alive`.
    Ollama,
    /// One model, nothing to load or unload.
    Single,
}

impl ServerKind {
    /// The serialised name: `router`, `ollama` or `single`.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Router => "router",
            ServerKind::Ollama => "ollama",
            ServerKind::Single => "single",
        }
    }
}

/// Bounds on every wait, so a run never hangs on a server that will not
/// come round.
#[derive(Debug, Clone, PartialEq)]
pub struct ManageConfig {
    /// From load to the first answered request. Large models take minutes
    /// to map; a 0.5B is ready in 1-3 s.
    pub ready_timeout: Duration,
    /// Between readiness probes and status polls.
    pub poll: Duration,
    /// For an unload to show in the server's model list.
    pub unload_timeout: Duration,
    /// For freed memory to come back (the kernel reclaims a 100 GB model in
    /// tens of seconds).
    pub memory_timeout: Duration,
    /// How far below the baseline `MemAvailable` may stay and still count as
    /// back: other processes come and go.
    pub memory_tolerance_bytes: u64,
    /// Check memory at all: only when the server runs on this machine.
    pub check_memory: bool,
}

impl Default for ManageConfig {
    fn default() -> Self {
        ManageConfig {
            ready_timeout: Duration::from_secs(600),
            poll: Duration::from_secs(1),
            unload_timeout: Duration::from_secs(120),
            memory_timeout: Duration::from_secs(120),
            memory_tolerance_bytes: 512 << 20,
            check_memory: true,
        }
    }
}

/// One step of taking a model through its benchmark, as it happens: what a
/// front end shows while a model loads or unloads.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelStep {
    /// A single-model server lists other names than the one the results
    /// are labelled with.
    NotListed {
        /// The names the server lists.
        available: Vec<String>,
    },
    /// A model is being unloaded: another one before loading, or this one
    /// after its benchmark.
    Unloading {
        /// The model's name as the server lists it.
        model: String,
    },
    /// Nothing is loaded and `MemAvailable` has settled (local servers).
    MemorySettled {
        /// `MemAvailable` once settled, in bytes: the level to come back to.
        mem_available_bytes: u64,
    },
    /// The model's load has been asked for.
    Loading,
    /// The model answered a one-token request.
    Ready {
        /// From the first readiness probe to the first answer, in seconds.
        waited_s: f64,
    },
    /// The model went away during the run (crashed, evicted): nothing to
    /// unload.
    NoLongerLoaded,
    /// After unloading, `MemAvailable` came back to its level before loading.
    MemoryBack {
        /// `MemAvailable` now, in bytes.
        mem_available_bytes: u64,
        /// `MemAvailable` before loading, in bytes.
        before_bytes: u64,
    },
}

/// What runs while one model is loaded: the quality benchmark, a latency
/// suite. [`Manager::with_model`] takes a model through its turn around it.
pub trait Workload {
    /// What the work yields, handed back by [`Manager::with_model`].
    type Output;

    /// Each model-management step, as it happens.
    fn step(&mut self, model: &str, step: ModelStep);

    /// The work, with `model` loaded and answering.
    fn run<'a>(
        &'a mut self,
        model: &'a str,
    ) -> impl std::future::Future<Output = Self::Output> + Send + 'a;
}

/// Takes models through their turns on one server, one model at a time, within
/// its [`ManageConfig`] bounds.
#[derive(Debug, Clone)]
pub struct Manager {
    client: ChatClient,
    kind: ServerKind,
    config: ManageConfig,
}

impl Manager {
    /// A manager for a server of `kind`, as given; [`Manager::connect`] detects the
    /// kind and whether to check memory.
    pub fn new(client: ChatClient, kind: ServerKind, config: ManageConfig) -> Manager {
        Manager {
            client,
            kind,
            config,
        }
    }

    /// The kind of server it manages.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// Tells a router from Ollama from a single-model server by what
    /// answers: a router's `GET /models` lists models with a `status`;
    /// Ollama answers `GET /api/tags`.
    pub async fn detect(client: &ChatClient) -> Result<ServerKind> {
        match get_json(client, "/models").await {
            Ok(value) => {
                let entries = value.get("data").and_then(Value::as_array);
                if entries.is_some_and(|entries| entries.iter().any(|e| e.get("status").is_some()))
                {
                    return Ok(ServerKind::Router);
                }
            }
            Err(Error::Request { ref failure, .. })
                if failure.class == crate::FailureClass::Connect =>
            {
                return Err(Error::Request {
                    what: format!("reach {}", client.config().base_url),
                    failure: failure.clone(),
                });
            }
            Err(_) => {}
        }
        if get_json(client, "/api/tags")
            .await
            .is_ok_and(|v| v.get("models").is_some())
        {
            return Ok(ServerKind::Ollama);
        }
        Ok(ServerKind::Single)
    }

    /// Models the server can serve.
    pub async fn available(&self) -> Result<Vec<String>> {
        match self.kind {
            ServerKind::Router => Ok(self
                .router_models()
                .await?
                .into_iter()
                .map(|m| m.0)
                .collect()),
            ServerKind::Ollama => {
                let tags = get_json(&self.client, "/api/tags").await?;
                Ok(names(&tags, "models", "name"))
            }
            ServerKind::Single => {
                let models = get_json(&self.client, "/v1/models").await?;
                Ok(names(&models, "data", "id"))
            }
        }
    }

    /// Models loaded (or loading) now.
    pub async fn loaded(&self) -> Result<Vec<String>> {
        match self.kind {
            ServerKind::Router => Ok(self
                .router_models()
                .await?
                .into_iter()
                .filter(|(_, status)| matches!(status.as_str(), "loaded" | "loading" | "sleeping"))
                .map(|(id, _)| id)
                .collect()),
            ServerKind::Ollama => {
                let ps = get_json(&self.client, "/api/ps").await?;
                Ok(names(&ps, "models", "name"))
            }
            ServerKind::Single => self.available().await,
        }
    }

    /// A manager for the server `client` talks to, of `kind` or of the kind
    /// [`Manager::detect`] finds; memory is watched when the server is on
    /// this machine, where its memory is ours to read.
    pub async fn connect(client: ChatClient, kind: Option<ServerKind>) -> Result<Manager> {
        let kind = match kind {
            Some(kind) => kind,
            None => Manager::detect(&client).await?,
        };
        let config = ManageConfig {
            check_memory: is_local(&client.config().base_url),
            ..ManageConfig::default()
        };
        Ok(Manager::new(client, kind, config))
    }

    /// One model's turn on the server: unload the others, let memory settle,
    /// load `model`, wait until it answers, run `workload`, unload it and
    /// check memory came back. The model is unloaded whatever the workload's
    /// output; `Err` means managing the server failed.
    ///
    /// `cancel` reaches the readying steps (which may wait ten minutes for
    /// an answer): they are dropped, a model whose load was asked for is
    /// unloaded (best effort, bounded), and the answer is
    /// [`Error::Cancelled`]. The workload watches the token itself.
    pub async fn with_model<W: Workload + Send>(
        &self,
        model: &str,
        workload: &mut W,
        cancel: &CancellationToken,
    ) -> Result<W::Output> {
        let mut loading = false;
        let begun = cancel
            .run_until_cancelled(self.begin(model, &mut |step| {
                loading |= matches!(step, ModelStep::Loading);
                workload.step(model, step)
            }))
            .await;
        let Some(session) = begun else {
            // The next run unloads everything before it loads anyway; this
            // only keeps a cancelled run from leaving the model resident.
            if loading {
                workload.step(
                    model,
                    ModelStep::Unloading {
                        model: model.to_owned(),
                    },
                );
                let _ = tokio::time::timeout(CANCEL_UNLOAD_TIMEOUT, self.unload(model)).await;
            }
            return Err(Error::Cancelled);
        };
        let session = session?;
        let output = workload.run(model).await;
        self.end(model, session, &mut |step| workload.step(model, step))
            .await?;
        Ok(output)
    }

    /// The start of one model's benchmark: unload everything, let memory
    /// settle, load `model`, wait until it answers. Each step is reported to
    /// `steps` as it happens.
    pub async fn begin(
        &self,
        model: &str,
        steps: &mut (dyn FnMut(ModelStep) + Send),
    ) -> Result<MemoryBaseline> {
        if self.kind == ServerKind::Single {
            // Listing models is optional for a single-model server; the
            // readiness probe is what counts.
            let available = self.available().await.unwrap_or_default();
            if !available.is_empty() && !available.iter().any(|name| name == model) {
                steps(ModelStep::NotListed { available });
            }
            let waited = self.wait_ready(model).await?;
            steps(ModelStep::Ready {
                waited_s: waited.as_secs_f64(),
            });
            return Ok(MemoryBaseline {
                mem_available_before: None,
            });
        }
        let available = self.available().await?;
        if !available.iter().any(|name| name == model) {
            return Err(Error::UnknownModel {
                model: model.to_owned(),
                available,
            });
        }
        for other in self.loaded().await? {
            steps(ModelStep::Unloading {
                model: other.clone(),
            });
            self.unload(&other).await?;
        }
        self.wait_none_loaded().await?;
        let mem_available_before = if self.config.check_memory {
            let settled = self.wait_memory_settled().await?;
            steps(ModelStep::MemorySettled {
                mem_available_bytes: settled,
            });
            Some(settled)
        } else {
            None
        };
        steps(ModelStep::Loading);
        self.load(model).await?;
        let waited = self.wait_ready(model).await?;
        steps(ModelStep::Ready {
            waited_s: waited.as_secs_f64(),
        });
        Ok(MemoryBaseline {
            mem_available_before,
        })
    }

    /// The end of one model's benchmark: unload it, check nothing is left
    /// loaded and memory came back.
    pub async fn end(
        &self,
        model: &str,
        session: MemoryBaseline,
        steps: &mut (dyn FnMut(ModelStep) + Send),
    ) -> Result<()> {
        if self.kind == ServerKind::Single {
            return Ok(());
        }
        // A model that went away mid-run (crashed, evicted) needs no unload,
        // and a router refuses to unload what is not running.
        if self.loaded().await?.iter().any(|name| name == model) {
            steps(ModelStep::Unloading {
                model: model.to_owned(),
            });
            self.unload(model).await?;
        } else {
            steps(ModelStep::NoLongerLoaded);
        }
        self.wait_none_loaded().await?;
        if let Some(before) = session.mem_available_before {
            let now = self.wait_memory_back(before).await?;
            steps(ModelStep::MemoryBack {
                mem_available_bytes: now,
                before_bytes: before,
            });
        }
        Ok(())
    }

    /// Asks the server to load `model` (a router's `POST /models/load`, or an
    /// Ollama request with no prompt that keeps it until unloaded); nothing for a
    /// single-model server. [`Manager::wait_ready`] waits for it to answer.
    pub async fn load(&self, model: &str) -> Result<()> {
        match self.kind {
            ServerKind::Router => {
                post_json(&self.client, "/models/load", &json!({ "model": model })).await?;
            }
            ServerKind::Ollama => {
                // No prompt: Ollama loads the model and answers at once. -1
                // keeps it until we unload it.
                post_json(
                    &self.client,
                    "/api/generate",
                    &json!({ "model": model, "keep_alive": -1 }),
                )
                .await?;
            }
            ServerKind::Single => {}
        }
        Ok(())
    }

    /// Asks the server to unload `model` (`POST /models/unload`, or Ollama's
    /// `keep_alive: 0`); nothing for a single-model server. Does not wait for it to
    /// go.
    pub async fn unload(&self, model: &str) -> Result<()> {
        match self.kind {
            ServerKind::Router => {
                post_json(&self.client, "/models/unload", &json!({ "model": model })).await?;
            }
            ServerKind::Ollama => {
                post_json(
                    &self.client,
                    "/api/generate",
                    &json!({ "model": model, "keep_alive": 0 }),
                )
                .await?;
            }
            ServerKind::Single => {}
        }
        Ok(())
    }

    /// Sends a one-token request until one is answered; returns how long
    /// that took.
    pub async fn wait_ready(&self, model: &str) -> Result<Duration> {
        let started = Instant::now();
        let mut probe = ChatRequest::new(model, vec![Message::user("Say OK.")]);
        probe.max_tokens = 1;
        let mut last = None;
        while started.elapsed() < self.config.ready_timeout {
            match self.client.chat(&probe).await {
                Ok(_) => return Ok(started.elapsed()),
                // A one-token answer may be empty; the server did answer.
                Err(failure) if failure.class == crate::FailureClass::EmptyAnswer => {
                    return Ok(started.elapsed());
                }
                Err(failure) => last = Some(failure.to_string()),
            }
            if self.kind == ServerKind::Router && self.router_failed(model).await {
                return Err(Error::NotReady {
                    model: model.to_owned(),
                    detail: "the router reports that the model failed to load".into(),
                });
            }
            tokio::time::sleep(self.config.poll).await;
        }
        Err(Error::NotReady {
            model: model.to_owned(),
            detail: format!(
                "no answer within {:.0?}; last: {}",
                self.config.ready_timeout,
                last.unwrap_or_default()
            ),
        })
    }

    /// `/props` and `/v1/models` as they are now; absent when not served.
    pub async fn identity(&self, model: &str) -> ServerIdentity {
        let props_path = match self.kind {
            ServerKind::Router => {
                format!("/props?model={}", fuelbench_stdx::percent_encoded(model))
            }
            _ => "/props".to_owned(),
        };
        ServerIdentity {
            kind: self.kind,
            base_url: self.client.config().base_url.clone(),
            props: get_json(&self.client, &props_path).await.ok(),
            models: get_json(&self.client, "/v1/models").await.ok(),
            process: crate::local_process(&self.client.config().base_url),
        }
    }

    async fn router_models(&self) -> Result<Vec<(String, String)>> {
        let value = get_json(&self.client, "/models").await?;
        let entries = value
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::Protocol("the router's GET /models has no `data` list".into()))?;
        Ok(entries
            .iter()
            .filter_map(|entry| {
                let id = entry.get("id")?.as_str()?.to_owned();
                let status = entry
                    .pointer("/status/value")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_owned();
                Some((id, status))
            })
            .collect())
    }

    async fn router_failed(&self, model: &str) -> bool {
        get_json(&self.client, "/models").await.is_ok_and(|value| {
            value
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|entry| {
                    entry.get("id").and_then(Value::as_str) == Some(model)
                        && entry.pointer("/status/failed").and_then(Value::as_bool) == Some(true)
                })
        })
    }

    async fn wait_none_loaded(&self) -> Result<()> {
        let started = Instant::now();
        loop {
            let loaded = self.loaded().await?;
            if loaded.is_empty() {
                return Ok(());
            }
            if started.elapsed() >= self.config.unload_timeout {
                return Err(Error::StillLoaded {
                    models: loaded,
                    waited: self.config.unload_timeout,
                });
            }
            tokio::time::sleep(self.config.poll).await;
        }
    }
}

/// True when `base_url` names this machine, so its memory is the server's.
pub fn is_local(base_url: &str) -> bool {
    let rest = base_url.split("://").nth(1).unwrap_or(base_url);
    let host = rest.split('/').next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(host, _port)| host);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1") || host.starts_with("127.")
}

fn names(value: &Value, list: &str, field: &str) -> Vec<String> {
    value
        .get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get(field).and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// How long a run cancelled while loading waits for its model's unload.
const CANCEL_UNLOAD_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests;
