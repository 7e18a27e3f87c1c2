//! Several models and variants, one model at a time through a
//! [`Manager`]: unload, load, run every variant, unload.

use std::path::PathBuf;

use fuelbench_llm::Manager;
use fuelbench_problems::Problem;

use crate::{
    Error, EventSink, Result, ResultsFile, RunConfig, RunContext, RunEvent, Suite, config_changes,
    results_path, run_variant,
};

/// One model in several variants, or several models: the runner's plan.
#[derive(Debug, Clone)]
pub struct Benchmark {
    /// One configuration per model and variant; grouped by model in order.
    pub configs: Vec<RunConfig>,
    /// The folder the results files go in, one per model and variant, named by
    /// [`results_path`](crate::results_path).
    pub out_dir: PathBuf,
    /// Continue results files that exist instead of refusing them; a finished
    /// one whose configuration matches is not run again.
    pub resume: bool,
    /// The public suites the configurations of a suite ask
    /// ([`RunConfig::suite`]); empty when they ask only our problems.
    pub suites: Vec<Suite>,
}

impl Benchmark {
    /// Runs every configuration, one model at a time: for each model, unload
    /// the others, load it, run each of its variants, unload it. A model
    /// that cannot be loaded is reported and the next one is tried; the
    /// error comes back at the end. Every step goes to `events`, ending with
    /// `run_finished`, `run_failed` or `run_cancelled`.
    pub async fn run(
        &self,
        context: &RunContext,
        manager: &Manager,
        problems: &[Problem],
        events: EventSink<'_>,
    ) -> Result<Vec<(PathBuf, ResultsFile)>> {
        let mut models: Vec<String> = Vec::new();
        let mut variants: Vec<String> = Vec::new();
        for config in &self.configs {
            if !models.contains(&config.model) {
                models.push(config.model.clone());
            }
            if !variants.contains(&config.variant()) {
                variants.push(config.variant());
            }
        }
        events(RunEvent::RunStarted {
            server_kind: manager.kind(),
            models: models.clone(),
            variants,
            problems: self
                .configs
                .first()
                .map_or(0, |config| config.problems.len()),
            samples: self
                .configs
                .first()
                .map_or(1, |config| config.samples.max(1) as usize),
        });
        let outcome = self
            .run_models(context, manager, problems, &models, events)
            .await;
        events(match &outcome {
            Ok(done) => RunEvent::RunFinished {
                files: done.iter().map(|(path, _)| path.clone()).collect(),
            },
            Err(Error::Cancelled) => RunEvent::RunCancelled,
            Err(error) => RunEvent::RunFailed {
                error: fuelbench_stdx::error_chain(error),
            },
        });
        outcome
    }

    async fn run_models(
        &self,
        context: &RunContext,
        manager: &Manager,
        problems: &[Problem],
        models: &[String],
        events: EventSink<'_>,
    ) -> Result<Vec<(PathBuf, ResultsFile)>> {
        let mut done = Vec::new();
        let mut first_error = None;
        for model in models {
            if context.cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            // A model whose every variant is already finished is not loaded
            // again just to find nothing to do.
            let finished: Option<Vec<(PathBuf, ResultsFile)>> = self
                .configs
                .iter()
                .filter(|c| &c.model == model)
                .map(|config| {
                    let path = results_path(&self.out_dir, config);
                    let file = ResultsFile::read(&path).ok()?;
                    (self.resume
                        && file.complete
                        && config_changes(&file.config, config).is_empty())
                    .then_some((path, file))
                })
                .collect();
            if let Some(finished) = finished {
                for (path, file) in finished {
                    events(RunEvent::VariantComplete {
                        file: path.clone(),
                        model: model.clone(),
                        variant: file.config.variant(),
                    });
                    done.push((path, file));
                }
                continue;
            }
            let mut variants = ModelTurn {
                benchmark: self,
                context,
                manager,
                problems,
                events: &mut *events,
                done: Vec::new(),
                loaded: false,
            };
            match manager
                .with_model(model, &mut variants, &context.cancel)
                .await
            {
                Ok(outcome) => {
                    done.append(&mut variants.done);
                    outcome?;
                    events(RunEvent::ModelDone {
                        model: model.clone(),
                    });
                }
                Err(fuelbench_llm::Error::Cancelled) => return Err(Error::Cancelled),
                // Unloading failed, or memory never came back: loading the
                // next model now could starve it, so the run stops here.
                Err(error) if variants.loaded => return Err(Error::Server(error)),
                Err(error) => {
                    events(RunEvent::ModelSkipped {
                        model: model.clone(),
                        error: fuelbench_stdx::error_chain(&error),
                    });
                    first_error.get_or_insert(Error::Server(error));
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(done),
        }
    }
}

/// One model's turn on the server: its variants, run while it is loaded.
struct ModelTurn<'b, 'e> {
    benchmark: &'b Benchmark,
    context: &'b RunContext,
    manager: &'b Manager,
    problems: &'b [Problem],
    events: EventSink<'e>,
    done: Vec<(PathBuf, ResultsFile)>,
    /// The model was loaded and the variants ran.
    loaded: bool,
}

impl fuelbench_llm::Workload for ModelTurn<'_, '_> {
    type Output = Result<()>;

    fn step(&mut self, model: &str, step: fuelbench_llm::ModelStep) {
        (self.events)(RunEvent::Model {
            model: model.to_owned(),
            step,
        });
    }

    async fn run(&mut self, model: &str) -> Result<()> {
        self.loaded = true;
        let identity = self.manager.identity(model).await;
        for config in self.benchmark.configs.iter().filter(|c| c.model == model) {
            let path = results_path(&self.benchmark.out_dir, config);
            let file = run_variant(
                self.context,
                config.clone(),
                self.problems,
                &self.benchmark.suites,
                Some(identity.clone()),
                &path,
                self.benchmark.resume,
                &mut *self.events,
            )
            .await?;
            self.done.push((path, file));
        }
        Ok(())
    }
}
