//! Starting a benchmark run, the same way from every front end: the check
//! that its results files may be written ([`preflight`]), and the model
//! server it talks to ([`Target`]), already listening or started here,
//! taken for the run by its lock.

use std::path::Path;

use fuelbench_llm::{
    ChatClient, ClientConfig, LocalServer, LocalServerConfig, Manager, ServerKind, ServerLock,
};

use crate::{Error, Result, ResultsFile, RunConfig, Store, config_changes, results_path};

/// Whether a run of `configs` may write into `store`: a new run never
/// overwrites results ([`Error::Exists`]), and a resumed one must ask what
/// its files asked ([`Error::ConfigChanged`]). Checked before any model is
/// loaded, so a run that cannot finish does not start. A bucket's files
/// to resume are brought into its local copy here ([`Store::stage`]).
pub fn preflight(store: &dyn Store, configs: &[RunConfig], resume: bool) -> Result<()> {
    let names: Vec<String> = configs
        .iter()
        .filter_map(|config| {
            let path = results_path(Path::new(""), config);
            Some(path.file_name()?.to_str()?.to_owned())
        })
        .collect();
    store.stage(&names, resume)?;
    let dir = store.results_dir();
    for config in configs {
        let path = results_path(dir, config);
        if !path.exists() {
            continue;
        }
        if !resume {
            return Err(Error::Exists { path });
        }
        // A file that cannot be read is the run's to report, by its name,
        // when it reaches it.
        if let Ok(saved) = ResultsFile::read(&path) {
            let changes = config_changes(&saved.config, config);
            if !changes.is_empty() {
                return Err(Error::ConfigChanged { path, changes });
            }
        }
    }
    Ok(())
}

/// Where a run's model server is.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    /// A server already listening, at its root URL.
    Url(String),
    /// A `llama-server` started here on 127.0.0.1 for the run, and stopped
    /// by its PID when the run's [`Target`] is dropped.
    Local(LocalServerConfig),
}

/// The model server one run talks to, held by the run: no other fuelbench
/// run, in this process or another, uses it until the target is dropped
/// or [`Target::release`]d, so no run's timings are spoiled by another's.
#[derive(Debug)]
pub struct Target {
    client: ChatClient,
    lock: Option<ServerLock>,
    /// Declared last: stopped after the lock is given back.
    local: Option<LocalServer>,
}

impl Target {
    /// Starts the server if `endpoint` asks for one, then takes it, with a
    /// client of `settings` (its `base_url` is the endpoint's). Another run
    /// holding the server is [`fuelbench_llm::Error::Busy`].
    pub fn open(endpoint: Endpoint, settings: ClientConfig, locks_dir: &Path) -> Result<Target> {
        let (url, local) = match endpoint {
            Endpoint::Url(url) => (url, None),
            Endpoint::Local(config) => {
                let server = LocalServer::start(&config)?;
                (server.base_url().to_owned(), Some(server))
            }
        };
        let client = ChatClient::new(ClientConfig {
            base_url: fuelbench_llm::normalize_base_url(&url),
            ..settings
        });
        let lock = ServerLock::acquire(locks_dir, &client.config().base_url)?;
        Ok(Target {
            client,
            lock: Some(lock),
            local,
        })
    }

    /// The client the run asks the server with.
    pub fn client(&self) -> &ChatClient {
        &self.client
    }

    /// The server's root URL, normalised, as the client and the lock use it.
    pub fn base_url(&self) -> &str {
        &self.client.config().base_url
    }

    /// The server this target started, if it did.
    pub fn local(&self) -> Option<&LocalServer> {
        self.local.as_ref()
    }

    /// A manager for the server: of `kind`, or of the kind it answers as.
    pub async fn manager(&self, kind: Option<ServerKind>) -> Result<Manager> {
        Ok(Manager::connect(self.client.clone(), kind).await?)
    }

    /// Gives the server back before the target is dropped: a run ending
    /// frees its server before anyone hears that it ended, so whoever hears
    /// may start the next run at once.
    pub fn release(&mut self) {
        self.lock = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Plan, Think};

    fn configs(model: &str) -> Vec<RunConfig> {
        let problems = fuelbench_problems::load_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../problems"),
        )
        .expect("the problem set loads");
        let plan = Plan {
            models: vec![model.to_owned()],
            thinks: vec![Think::Default],
            problems: vec!["p01".to_owned()],
            ..Plan::default()
        };
        let problems = plan.select(problems).expect("p01 is a problem");
        plan.configs(&problems, &[]).expect("a configuration")
    }

    #[test]
    fn results_are_never_overwritten_and_a_resume_must_ask_the_same() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = crate::DirStore::open(dir.path()).expect("the store opens");
        let asked = configs("m");
        preflight(&store, &asked, false).expect("nothing there yet");
        let path = results_path(dir.path(), &asked[0]);
        let key = fuelbench_eval::Reproducibility {
            fuelbench_version: String::new(),
            wasmtime_version: String::new(),
            python_wasm_sha256: String::new(),
            snapshot_sha256: String::new(),
            case_fuel: 0,
            measure_fuel: 0,
            budget_factor: 0,
            suite_fuel: 0,
            seed: 0,
            suite: None,
        };
        let file = ResultsFile::new(asked[0].clone(), key);
        file.write_atomic(&path).expect("written");

        let error = preflight(&store, &asked, false).expect_err("it exists");
        assert!(
            matches!(&error, Error::Exists { path: p } if *p == path),
            "{error}"
        );
        preflight(&store, &asked, true).expect("a resume of the same run");

        let mut other = asked.clone();
        other[0].temperature = 0.7;
        let error = preflight(&store, &other, true).expect_err("other settings");
        let Error::ConfigChanged { changes, .. } = error else {
            panic!("a changed configuration: {error}");
        };
        assert!(
            changes.iter().any(|change| change.contains("temperature")),
            "{changes:?}"
        );
    }
}
