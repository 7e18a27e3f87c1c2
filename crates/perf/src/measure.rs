//! A whole load run as it is filed: the plan fitted to what the server can
//! count, the server's identity and memory around the run, every request's
//! log, and the report that holds them with its summary.

use fuelbench_llm::{ChatClient, Manager, MemoryReading};
use serde_json::json;

use crate::{FORMAT, InputUnit, LoadHead, LoadPlan, LoadReport, Profile, RequestLog, Summary};

/// What a load run is filed under, besides its plan.
#[derive(Debug, Clone)]
pub struct LoadRun {
    /// The plan to run; [`measure`] falls back to words where the server has no
    /// `/tokenize`.
    pub plan: LoadPlan,
    /// The profile's name as [`Profile::filed_name`] gives it.
    pub profile: String,
    /// When the run started, RFC 3339.
    pub started_at: String,
}

impl Profile {
    /// The name a run of this profile is filed and compared under: a
    /// profile with its lengths changed (`custom`) or scaled
    /// (`<name>-x<scale>`) is not that profile, whose figures it must not
    /// be compared with.
    pub fn filed_name(self, scale: f64, custom: bool) -> String {
        if custom {
            "custom".to_owned()
        } else if scale != 1.0 {
            format!("{}-x{scale}", self.name())
        } else {
            self.name().to_owned()
        }
    }
}

/// Runs `run` against `client`: lengths in tokens where the server's
/// `/tokenize` counts them (in words where it cannot), the server's
/// identity and the memory of its process (when it is on this machine)
/// read before and after. `note` hears, as they happen, what a person
/// watching should know.
pub async fn measure(
    client: &ChatClient,
    run: LoadRun,
    note: &mut (dyn FnMut(String) + Send),
) -> LoadReport {
    let LoadRun {
        mut plan,
        profile,
        started_at,
    } = run;
    let input_unit = match fuelbench_llm::tokenize(client, "Count these tokens.").await {
        Ok(_) => "tokens of the prompt's text, fitted through the server's /tokenize".to_owned(),
        Err(error) => {
            plan.input_unit = InputUnit::Words;
            note(format!(
                "the server cannot count tokens ({error}); input lengths are words, and its \
                 usage says how many tokens they became"
            ));
            format!("words (no /tokenize: {error})")
        }
    };
    let identity = match Manager::detect(client).await {
        Ok(kind) => Some(
            Manager::new(client.clone(), kind, Default::default())
                .identity(&plan.model)
                .await,
        ),
        Err(error) => {
            note(format!(
                "the server did not say what it is ({error}); measuring anyway"
            ));
            None
        }
    };
    let pid = identity
        .as_ref()
        .and_then(|identity| identity.process.as_ref())
        .map(|process| process.pid);
    note(describe(&plan));
    let memory_before = MemoryReading::now(pid);
    let logs = crate::load::run(client, &plan).await;
    let memory_after = MemoryReading::now(pid);
    if plan.input_unit == InputUnit::Tokens
        && let Some(text) = inexact_lengths(&logs)
    {
        note(text);
    }
    let summary = Summary::of(&logs);
    LoadReport {
        head: LoadHead {
            format: FORMAT.to_owned(),
            server: client.config().base_url.clone(),
            model: plan.model.clone(),
            profile,
            started_at,
            plan: json!({
                "requests": plan.requests, "input_len": plan.input_len,
                "output_len": plan.output_len, "range_ratio": plan.range_ratio,
                "rate": format!("{:?}", plan.rate), "max_concurrency": plan.max_concurrency,
                "deadline_s": plan.deadline.as_secs(), "seed": plan.seed, "tag": plan.tag,
                "extra_body": plan.extra, "length_convention": "sglang [r*L, L]",
                "input_unit": input_unit,
            }),
            server_identity: identity,
            memory_before: Some(memory_before),
            memory_after: Some(memory_after),
            summary,
        },
        requests: logs,
    }
}

/// The plan in a line, as the run begins.
fn describe(plan: &LoadPlan) -> String {
    format!(
        "{} requests of {} {} in, {} tokens out (range ratio {}), rate {:?}, concurrency {}",
        plan.requests,
        plan.input_len,
        match plan.input_unit {
            InputUnit::Tokens => "tokens",
            InputUnit::Words => "words",
        },
        plan.output_len,
        plan.range_ratio,
        plan.rate,
        plan.max_concurrency
            .map_or("unlimited".into(), |c| c.to_string())
    )
}

/// How far the prompts' lengths in tokens are from the lengths drawn, when
/// any is: a prompt is fitted through `/tokenize`, but never made shorter
/// than the sentence every prompt begins with.
fn inexact_lengths(logs: &[RequestLog]) -> Option<String> {
    let exact = logs
        .iter()
        .filter(|log| log.input_tokens == Some(log.input_len as u64))
        .count();
    if exact == logs.len() {
        return None;
    }
    let off = logs
        .iter()
        .filter_map(|log| Some(log.input_tokens?.abs_diff(log.input_len as u64)))
        .max()
        .unwrap_or(0);
    Some(format!(
        "{exact} of {} prompts are exactly their drawn length in tokens, the rest within {off} \
         (each prompt's own count is in the log; no prompt is shorter than the sentence every \
         one begins with)",
        logs.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_or_scaled_profile_is_filed_under_its_own_name() {
        assert_eq!(Profile::Short.filed_name(1.0, false), "short");
        assert_eq!(Profile::Short.filed_name(0.01, false), "short-x0.01");
        assert_eq!(Profile::Long.filed_name(1.0, true), "custom");
        assert_eq!(Profile::Long.filed_name(0.5, true), "custom");
    }
}
