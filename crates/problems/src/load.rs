//! From a folder on disk to a validated [`Problem`].

use std::path::{Path, PathBuf};

use crate::{
    Case, Class, Compare, ComplexitySpec, Error, Expect, Failure, Generator, Input, Kind, Problem,
    Requirement, Result, RightSolution, WrongSolution,
};

/// The fewest small and edge cases a problem may have, each.
pub(crate) const MIN_CASES: usize = 5;
/// The fewest sizes in a complexity series, and the least span from the
/// smallest to the largest: two decades. Fewer or narrower cannot tell n from
/// n log n, nor a quadratic part done in C from the linear work around it.
pub(crate) const MIN_SIZES: usize = 6;
pub(crate) const MIN_SIZE_SPAN: u64 = 100;

/// `problem.toml` as written; [`validate`] turns it into a [`Problem`].
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProblem {
    id: String,
    title: String,
    difficulty: u8,
    category: String,
    entry_point: String,
    kind: Kind,
    refactor_request: String,
    #[serde(default)]
    compare: Compare,
    #[serde(default)]
    small: Vec<RawCase>,
    #[serde(default)]
    edge: Vec<RawCase>,
    complexity: RawComplexity,
    #[serde(default)]
    numerical: Vec<RawCase>,
    generated: Option<RawGenerator>,
    numerical_generated: Option<RawGenerator>,
    /// Every case checks that the call left its arguments as they were.
    #[serde(default)]
    unchanged_inputs: bool,
    #[serde(default)]
    forbidden: Vec<String>,
    #[serde(default)]
    requirement: Vec<RawRequirement>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    text: String,
    cases: Vec<String>,
    plant: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Option<String>,
    args: Option<String>,
    calls: Option<String>,
    expected: Option<String>,
    raises: Option<String>,
    compare: Option<Compare>,
    unchanged_inputs: Option<bool>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGenerator {
    count: usize,
    code: String,
    compare: Option<Compare>,
}

/// The most inputs a generator may draw per evaluation.
pub(crate) const MAX_GENERATED: usize = 1000;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComplexity {
    expected: String,
    sizes: Vec<u64>,
    setup: String,
}

/// Loads every problem folder under `dir`, sorted by id.
pub fn load_dir(dir: &Path) -> Result<Vec<Problem>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut folders = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        if entry.path().join("problem.toml").is_file() {
            folders.push(entry.path());
        }
    }
    folders.sort();
    folders.iter().map(|folder| load(folder)).collect()
}

/// Loads and validates one problem folder.
pub fn load(dir: &Path) -> Result<Problem> {
    let toml_path = dir.join("problem.toml");
    let text = read(&toml_path)?;
    let raw: RawProblem = toml::from_str(&text).map_err(|source| Error::Toml {
        file: toml_path.clone(),
        source,
    })?;
    let prompt = read(&dir.join("prompt.md"))?;
    let reference = read(&dir.join("reference.py"))?;
    let wrong = load_wrong(&dir.join("wrong"))?;
    let right = python_files(&dir.join("right"))?
        .into_iter()
        .map(|(name, _, source)| RightSolution { name, source })
        .collect();
    Ok(Problem {
        right,
        ..validate(raw, dir, prompt, reference, wrong)?
    })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

fn validate(
    raw: RawProblem,
    dir: &Path,
    prompt: String,
    reference: String,
    wrong: Vec<WrongSolution>,
) -> Result<Problem> {
    let file = dir.join("problem.toml");
    let invalid = |field: &str, reason: String| Error::Invalid {
        file: file.clone(),
        field: field.to_owned(),
        reason,
    };

    let folder_name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    if raw.id != folder_name {
        return Err(invalid(
            "id",
            format!("is {:?} but the folder is {folder_name:?}", raw.id),
        ));
    }
    if !raw
        .id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(invalid("id", "may hold only a-z, 0-9 and _".into()));
    }
    if !(1..=4).contains(&raw.difficulty) {
        return Err(invalid(
            "difficulty",
            format!("is {}, not 1 to 4", raw.difficulty),
        ));
    }
    for (field, value) in [
        ("title", &raw.title),
        ("category", &raw.category),
        ("refactor_request", &raw.refactor_request),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(field, "is empty".into()));
        }
    }
    if !is_identifier(&raw.entry_point) {
        return Err(invalid(
            "entry_point",
            format!("{:?} is not a Python identifier", raw.entry_point),
        ));
    }
    if prompt.trim().is_empty() {
        return Err(Error::Invalid {
            file: dir.join("prompt.md"),
            field: "prompt".into(),
            reason: "is empty".into(),
        });
    }
    if !prompt.contains(&raw.entry_point) {
        return Err(Error::Invalid {
            file: dir.join("prompt.md"),
            field: "prompt".into(),
            reason: format!("never names the entry point `{}`", raw.entry_point),
        });
    }
    validate_compare(&raw.compare).map_err(|reason| invalid("compare", reason))?;

    let defaults = CaseDefaults {
        kind: raw.kind,
        compare: raw.compare,
        unchanged_inputs: raw.unchanged_inputs,
    };
    let small =
        cases("small", raw.small, &defaults).map_err(|(field, reason)| invalid(&field, reason))?;
    let edge =
        cases("edge", raw.edge, &defaults).map_err(|(field, reason)| invalid(&field, reason))?;
    let numerical = cases("numerical", raw.numerical, &defaults)
        .map_err(|(field, reason)| invalid(&field, reason))?;
    for (field, list) in [("small", &small), ("edge", &edge)] {
        if list.len() < MIN_CASES {
            return Err(invalid(
                field,
                format!("has {} cases; at least {MIN_CASES} are needed", list.len()),
            ));
        }
    }

    let expected = Class::parse(&raw.complexity.expected).ok_or_else(|| {
        invalid(
            "complexity.expected",
            format!(
                "{:?} is not a class such as \"O(n log n)\"",
                raw.complexity.expected
            ),
        )
    })?;
    let sizes = raw.complexity.sizes;
    if sizes.len() < MIN_SIZES {
        return Err(invalid(
            "complexity.sizes",
            format!("has {} sizes; at least {MIN_SIZES} are needed", sizes.len()),
        ));
    }
    if sizes.windows(2).any(|pair| pair[0] >= pair[1]) || sizes[0] == 0 {
        return Err(invalid(
            "complexity.sizes",
            "must be positive and strictly increasing".into(),
        ));
    }
    let (smallest, largest) = (sizes[0], sizes[sizes.len() - 1]);
    if largest < smallest.saturating_mul(MIN_SIZE_SPAN) {
        return Err(invalid(
            "complexity.sizes",
            format!("span {smallest}..{largest}, less than {MIN_SIZE_SPAN}x"),
        ));
    }
    if raw.complexity.setup.trim().is_empty() {
        return Err(invalid("complexity.setup", "is empty".into()));
    }
    if reference.trim().is_empty() {
        return Err(Error::Invalid {
            file: dir.join("reference.py"),
            field: "reference".into(),
            reason: "is empty".into(),
        });
    }
    if wrong.is_empty() {
        return Err(Error::Invalid {
            file: dir.join("wrong"),
            field: "wrong".into(),
            reason: "has no planted wrong solution".into(),
        });
    }
    let raw_compare = raw.compare;
    let generator = |field: &str, raw: Option<RawGenerator>| -> Result<Option<Generator>> {
        let Some(raw) = raw else { return Ok(None) };
        if raw.count == 0 || raw.count > MAX_GENERATED {
            return Err(invalid(
                &format!("{field}.count"),
                format!("is {}, not 1 to {MAX_GENERATED}", raw.count),
            ));
        }
        if raw.code.trim().is_empty() {
            return Err(invalid(&format!("{field}.code"), "is empty".into()));
        }
        if let Some(compare) = &raw.compare {
            validate_compare(compare)
                .map_err(|reason| invalid(&format!("{field}.compare"), reason))?;
        }
        Ok(Some(Generator {
            count: raw.count,
            code: raw.code,
            compare: raw.compare.unwrap_or(raw_compare),
        }))
    };
    let generated = generator("generated", raw.generated)?;
    let generated_numerical = generator("numerical_generated", raw.numerical_generated)?;
    if generated_numerical.is_some() && numerical.is_empty() {
        return Err(invalid(
            "numerical_generated",
            "a problem without fixed numerical cases has none generated".into(),
        ));
    }
    for (index, name) in raw.forbidden.iter().enumerate() {
        if !is_identifier(name) {
            return Err(invalid(
                &format!("forbidden[{index}]"),
                format!("{name:?} is not a Python name"),
            ));
        }
    }
    let mut case_names: Vec<&str> = small
        .iter()
        .chain(&edge)
        .chain(&numerical)
        .map(|case| case.name.as_str())
        .collect();
    if !raw.forbidden.is_empty() {
        case_names.push(FORBIDDEN);
    }
    if generated.is_some() {
        case_names.push(GENERATED);
    }
    if generated_numerical.is_some() {
        case_names.push(GENERATED_NUMERICAL);
    }
    let mut requirements = Vec::with_capacity(raw.requirement.len());
    for (index, requirement) in raw.requirement.into_iter().enumerate() {
        let field = |name: &str| format!("requirement[{index}].{name}");
        if requirement.text.trim().is_empty() {
            return Err(invalid(&field("text"), "is empty".into()));
        }
        if requirement.cases.is_empty() {
            return Err(invalid(
                &field("cases"),
                "names no case; give the cases that fail a solution breaking it".into(),
            ));
        }
        for case in &requirement.cases {
            if case != COMPLEXITY && !case_names.contains(&case.as_str()) {
                return Err(invalid(
                    &field("cases"),
                    format!("{case:?} is neither a case's name nor {COMPLEXITY:?}"),
                ));
            }
        }
        if !wrong.iter().any(|plant| plant.name == requirement.plant) {
            return Err(invalid(
                &field("plant"),
                format!("there is no wrong/{}.py", requirement.plant),
            ));
        }
        requirements.push(Requirement {
            text: requirement.text,
            cases: requirement.cases,
            plant: requirement.plant,
        });
    }

    Ok(Problem {
        id: raw.id,
        title: raw.title,
        difficulty: raw.difficulty,
        category: raw.category,
        entry_point: raw.entry_point,
        kind: raw.kind,
        prompt,
        refactor_request: raw.refactor_request,
        compare: raw.compare,
        small,
        edge,
        complexity: ComplexitySpec {
            expected,
            sizes,
            setup: raw.complexity.setup,
        },
        numerical,
        generated,
        generated_numerical,
        requirements,
        forbidden: raw.forbidden,
        reference,
        wrong,
        right: Vec::new(),
        dir: dir.to_owned(),
    })
}

/// What a case takes from its problem unless it says otherwise.
struct CaseDefaults {
    kind: Kind,
    compare: Compare,
    unchanged_inputs: bool,
}

fn cases(
    section: &str,
    raw: Vec<RawCase>,
    defaults: &CaseDefaults,
) -> Result<Vec<Case>, (String, String)> {
    let kind = defaults.kind;
    raw.into_iter()
        .enumerate()
        .map(|(index, case)| {
            let field = |name: &str| format!("{section}[{index}].{name}");
            let input = match (kind, case.args, case.calls) {
                (Kind::Function, Some(args), None) => Input::Args(args),
                (Kind::Class, None, Some(calls)) => Input::Calls(calls),
                (Kind::Function, _, _) => {
                    return Err((
                        field("args"),
                        "a function case needs `args` and no `calls`".into(),
                    ));
                }
                (Kind::Class, _, _) => {
                    return Err((
                        field("calls"),
                        "a class case needs `calls` and no `args`".into(),
                    ));
                }
            };
            let expect = match (case.expected, case.raises) {
                (Some(value), None) => Expect::Value(value),
                (None, Some(exception)) if is_identifier(&exception) => Expect::Raises(exception),
                (None, Some(exception)) => {
                    return Err((
                        field("raises"),
                        format!("{exception:?} is not an exception name"),
                    ));
                }
                _ => {
                    return Err((
                        field("expected"),
                        "give exactly one of `expected` and `raises`".into(),
                    ));
                }
            };
            let compare = case.compare.unwrap_or(defaults.compare);
            validate_compare(&compare).map_err(|reason| (field("compare"), reason))?;
            let name = case.name.unwrap_or_else(|| format!("{section}[{index}]"));
            Ok(Case {
                name,
                input,
                expect,
                compare,
                unchanged_inputs: case.unchanged_inputs.unwrap_or(defaults.unchanged_inputs),
            })
        })
        .collect()
}

fn validate_compare(compare: &Compare) -> Result<(), String> {
    for (name, value) in [("rel_tol", compare.rel_tol), ("abs_tol", compare.abs_tol)] {
        if !value.is_finite() || value < 0.0 {
            return Err(format!(
                "{name} = {value} is not a finite, non-negative number"
            ));
        }
    }
    Ok(())
}

/// The `.py` files in `dir`, by name: each one's stem, path and text; none
/// when there is no such folder.
fn python_files(dir: &Path) -> Result<Vec<(String, PathBuf, String)>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let source = read(&path)?;
            let name = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, path, source))
        })
        .collect()
}

/// What a requirement names to say the complexity series checks it.
pub const COMPLEXITY: &str = "complexity";

/// The test that a solution uses none of its problem's forbidden names, as
/// reports and requirements name it.
pub const FORBIDDEN: &str = "forbidden names";

/// The test that a solution agrees with the reference on every input the
/// problem's generator drew for this evaluation.
pub const GENERATED: &str = "generated";

/// The numerical check on inputs the problem's numerical generator drew.
pub const GENERATED_NUMERICAL: &str = "generated numerical";

fn load_wrong(dir: &Path) -> Result<Vec<WrongSolution>> {
    python_files(dir)?
        .into_iter()
        .map(|(name, path, source)| {
            let invalid = |reason: String| Error::Invalid {
                file: path.clone(),
                field: "expect".into(),
                reason,
            };
            let header = source
                .lines()
                .next()
                .and_then(|line| line.strip_prefix("# expect:"))
                .unwrap_or_default();
            let mut words = header.split_whitespace();
            let expect = words.next().and_then(Failure::parse).ok_or_else(|| {
                invalid(format!(
                    "the first line must be `# expect: <failure>`, one of {}",
                    Failure::ALL.map(Failure::name).join(", ")
                ))
            })?;
            let class = words.collect::<Vec<_>>().join(" ");
            let class = match (expect, class.is_empty()) {
                (Failure::ComplexityMismatch, false) => {
                    Some(Class::parse(&class).ok_or_else(|| {
                        invalid(format!("{class:?} is not a class such as \"O(n^2)\""))
                    })?)
                }
                (Failure::ComplexityMismatch, true) => {
                    return Err(invalid(
                        "a complexity mismatch names the class it is in: \
                         `# expect: complexity_mismatch O(n^2)`"
                            .into(),
                    ));
                }
                (_, true) => None,
                (_, false) => {
                    return Err(invalid(format!(
                        "only a complexity mismatch names a class, not {expect}"
                    )));
                }
            };
            Ok(WrongSolution {
                name,
                source,
                expect,
                class,
            })
        })
        .collect()
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests;
