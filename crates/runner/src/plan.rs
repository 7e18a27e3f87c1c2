//! What a benchmark will run, from plain data.
//!
//! Every front end builds a [`Plan`]: the CLI from its flags, the service
//! from a request body. The plan checks what it was given and turns into the
//! run configurations, one per model and variant, grouped by model.

use fuelbench_problems::Problem;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::suite::{HUMANEVAL, OURS, task_set_sha256};
use crate::{
    Error, Grammar, Result, RunConfig, SYSTEM_PROMPT, Suite, Think, problem_set_sha256, slug,
};

/// Models, variants and problems to run, and how to ask.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// As the server names them, in the order they run.
    pub models: Vec<String>,
    /// Each is a variant: thinking on and off side by side is two.
    pub thinks: Vec<Think>,
    /// Each is a variant; `None` sends no grammar.
    pub grammars: Vec<Option<Grammar>>,
    /// Follow each solve with a request to refactor the code it produced.
    pub refactor: bool,
    /// Problem ids or unique prefixes; empty runs the whole set.
    pub problems: Vec<String>,
    /// The most tokens each request may generate.
    pub max_tokens: u32,
    /// The sampling temperature of every request; 0 is greedy.
    pub temperature: f64,
    /// Extra top-level request fields.
    pub extra_body: Map<String, Value>,
    /// Answers asked per problem, 1 to [`MAX_SAMPLES`].
    pub samples: u32,
    /// What to answer: `ours` (our problems) and public suites by name
    /// (`humaneval`), each into results files of its own.
    pub suites: Vec<String>,
    /// Ask only each public suite's first tasks, this many: a bounded run.
    pub suite_limit: Option<usize>,
}

/// The most samples a run may ask per problem: a hundred answers to each
/// problem already tell apart pass rates a few points apart.
pub const MAX_SAMPLES: u32 = 100;

impl Default for Plan {
    fn default() -> Plan {
        Plan {
            models: Vec::new(),
            thinks: vec![Think::Default],
            grammars: vec![None],
            refactor: true,
            problems: Vec::new(),
            max_tokens: 8192,
            temperature: 0.0,
            extra_body: Map::new(),
            samples: 1,
            suites: vec![OURS.to_owned()],
            suite_limit: None,
        }
    }
}

impl Plan {
    /// The problems this plan runs, in the set's order.
    pub fn select(&self, problems: Vec<Problem>) -> Result<Vec<Problem>> {
        select_problems(problems, &self.problems)
    }

    /// One configuration per model, variant and suite, grouped by model,
    /// over `problems` (what [`Plan::select`] chose) and the public suites
    /// the plan names, found among `suites`.
    pub fn configs(&self, problems: &[Problem], suites: &[Suite]) -> Result<Vec<RunConfig>> {
        if self.models.is_empty() {
            return Err(plan_error("name at least one model"));
        }
        if self.models.iter().any(|model| model.trim().is_empty()) {
            return Err(plan_error("a model name must not be empty"));
        }
        if self.thinks.is_empty() || self.grammars.is_empty() {
            return Err(plan_error(
                "choose at least one thinking mode and one grammar",
            ));
        }
        let asked = self.suites(suites)?;
        if problems.is_empty() && asked.contains(&None) {
            return Err(plan_error("choose at least one problem"));
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(plan_error(format!(
                "temperature must be 0 to 2, not {}",
                self.temperature
            )));
        }
        if !(1..=MAX_SAMPLES).contains(&self.samples) {
            return Err(plan_error(format!(
                "samples must be 1 to {MAX_SAMPLES}, not {}",
                self.samples
            )));
        }
        // Per suite: its ids, their hash, whether refactors are asked.
        let sets: Vec<(Option<&Suite>, Vec<String>, String, bool)> = asked
            .iter()
            .map(|suite| match suite {
                None => (
                    None,
                    problems.iter().map(|problem| problem.id.clone()).collect(),
                    problem_set_sha256(problems),
                    self.refactor,
                ),
                Some(suite) => {
                    let tasks = &suite.tasks[..self
                        .suite_limit
                        .map_or(suite.tasks.len(), |limit| limit.min(suite.tasks.len()))];
                    (
                        Some(*suite),
                        tasks.iter().map(|task| task.task_id.clone()).collect(),
                        task_set_sha256(tasks),
                        // A suite has no refactor requests.
                        false,
                    )
                }
            })
            .collect();
        let mut configs = Vec::new();
        for model in &self.models {
            for &think in &self.thinks {
                for grammar in &self.grammars {
                    for (suite, ids, sha256, refactor) in &sets {
                        configs.push(RunConfig {
                            model: model.clone(),
                            think,
                            grammar: grammar.clone(),
                            refactor: *refactor,
                            problems: ids.clone(),
                            problem_set_sha256: sha256.clone(),
                            max_tokens: self.max_tokens,
                            temperature: self.temperature,
                            extra_body: self.extra_body.clone(),
                            system_prompt: SYSTEM_PROMPT.to_owned(),
                            samples: self.samples,
                            suite: suite.map(|suite| suite.source.clone()),
                        });
                    }
                }
            }
        }
        Ok(configs)
    }

    /// The suites the plan names, in its order: `None` for ours, else the
    /// loaded suite of that name.
    pub(crate) fn suites<'s>(&self, loaded: &'s [Suite]) -> Result<Vec<Option<&'s Suite>>> {
        if self.suites.is_empty() {
            return Err(plan_error(
                "choose at least one suite, e.g. ours or humaneval",
            ));
        }
        if self.suite_limit == Some(0) {
            return Err(plan_error("the suite limit must be at least 1 task"));
        }
        let mut asked = Vec::new();
        for name in &self.suites {
            let name = &name.trim().to_ascii_lowercase();
            let suite = if name == OURS {
                None
            } else {
                let found = loaded.iter().find(|suite| suite.source.name == *name);
                if found.is_none() && name != HUMANEVAL {
                    return Err(plan_error(format!(
                        "no suite {name:?}: choose {OURS} or {HUMANEVAL}"
                    )));
                }
                Some(found.ok_or_else(|| {
                    plan_error(format!(
                        "the suite {name} is not here: fetch it with scripts/fetch-humaneval.sh \
                         or give its file"
                    ))
                })?)
            };
            if asked.contains(&suite) {
                return Err(plan_error(format!("the suite {name} is named twice")));
            }
            asked.push(suite);
        }
        if self.suite_limit.is_some() && asked.iter().all(Option::is_none) {
            return Err(plan_error(
                "a suite limit bounds the public suites, and the plan asks none: \
                 add one (humaneval) or drop the limit",
            ));
        }
        Ok(asked)
    }
}

impl Plan {
    /// What a person starting this plan should know before it runs.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.samples > 1 && self.temperature == 0.0 {
            notes.push(format!(
                "{} samples at temperature 0: each sample's requests carry a seed of their own, \
                 but a server that samples greedily answers them alike; give a temperature \
                 above 0 for samples that differ",
                self.samples
            ));
        }
        if self.samples > 1 && self.extra_body.contains_key("seed") {
            notes.push(
                "the extra body sets `seed`: every sample's requests carry that one seed, so a \
                 server that honours it answers the samples alike"
                    .into(),
            );
        }
        notes
    }
}

impl Grammar {
    /// A GBNF grammar named from `name` (a file stem, say), hashed.
    pub fn from_text(name: &str, text: String) -> Result<Grammar> {
        if text.trim().is_empty() {
            return Err(plan_error(format!("the grammar {name:?} is empty")));
        }
        let name = Some(slug(name))
            .filter(|name| !name.is_empty() && name != "none")
            .unwrap_or_else(|| "custom".into());
        Ok(Grammar {
            name,
            sha256: format!("{:x}", Sha256::digest(text.as_bytes())),
            text,
        })
    }
}

/// Extra request fields from their JSON text: an object, or an error that
/// shows one.
pub fn parse_extra_body(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(plan_error(
            "the extra body must be a JSON object, e.g. {\"reasoning_format\":\"deepseek\"}",
        )),
        Err(error) => Err(plan_error(format!("the extra body is not JSON: {error}"))),
    }
}

/// The problems named in `wanted`, by id or unique prefix, in the set's
/// order; all of them when none are named.
pub fn select_problems(problems: Vec<Problem>, wanted: &[String]) -> Result<Vec<Problem>> {
    if wanted.is_empty() {
        return Ok(problems);
    }
    let ids = |list: &[&Problem]| {
        list.iter()
            .map(|problem| problem.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut chosen: Vec<Problem> = Vec::new();
    for name in wanted.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        let matches: Vec<&Problem> = problems.iter().filter(|p| p.id.starts_with(name)).collect();
        let problem = match matches.as_slice() {
            [one] => *one,
            [] => {
                let all: Vec<&Problem> = problems.iter().collect();
                return Err(plan_error(format!(
                    "no problem {name:?}; the set has {}",
                    ids(&all)
                )));
            }
            many => match many.iter().find(|p| p.id == name) {
                Some(exact) => *exact,
                None => {
                    return Err(plan_error(format!(
                        "{name:?} names several problems: {}",
                        ids(many)
                    )));
                }
            },
        };
        if !chosen.iter().any(|p| p.id == problem.id) {
            chosen.push(problem.clone());
        }
    }
    chosen.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(chosen)
}

fn plan_error(message: impl Into<String>) -> Error {
    Error::Plan(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grammar_is_named_from_its_stem_and_hashed() {
        let grammar = Grammar::from_text("Compact Code", "root ::= \"x\"".into()).unwrap();
        assert_eq!(grammar.name, "compact_code");
        assert_eq!(grammar.sha256.len(), 64);
        assert_eq!(
            Grammar::from_text("none", "root ::= \"x\"".into())
                .unwrap()
                .name,
            "custom"
        );
        assert!(Grammar::from_text("g", "  \n".into()).is_err());
    }

    #[test]
    fn the_extra_body_must_be_an_object() {
        assert_eq!(parse_extra_body(r#"{"a": 1}"#).unwrap()["a"], 1);
        for bad in ["[1]", "not json", "3"] {
            assert!(parse_extra_body(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_plan_without_models_or_variants_is_refused() {
        let plan = Plan::default();
        assert!(plan.configs(&[], &[]).is_err());
        let plan = Plan {
            models: vec!["m".into()],
            thinks: Vec::new(),
            ..Plan::default()
        };
        assert!(plan.configs(&[], &[]).is_err());
    }
}
