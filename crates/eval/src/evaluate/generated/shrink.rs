//! Shrinking a failing generated input: delete runs of its items while the
//! reference still ends as it did and the candidate still fails the same
//! way, so the report can show a smaller input beside the drawn one.

use fuelbench_problems::{Generator, Problem};
use fuelbench_sandbox::{Ending, Value};

use super::{Expected, judge_input, same_kind};
use crate::Result;
use crate::evaluate::Evaluator;
use crate::report::CaseOutcome;

impl Evaluator {
    /// A smaller input the candidate still fails on as it failed `failing`:
    /// rounds of deleting runs of items (see [`deletions`]), each round one
    /// batch of variants for the reference and one for the candidate, the
    /// smallest variant kept that the reference ends as it ended the
    /// original and the candidate fails with the same class. `None` when no
    /// deletion keeps the failure, or the input cannot be written back as
    /// Python. The verdict never rests on it: a deletion may leave the
    /// prompt's promises (a `k` past the number of words), so it is shown
    /// beside the drawn input, not instead of it.
    pub(super) fn shrink(
        &self,
        problem: &Problem,
        generator: &Generator,
        code: &str,
        failing: Failing<'_>,
        budget: u64,
    ) -> Result<Option<(Value, String)>> {
        let class_calls = matches!(problem.kind, fuelbench_problems::Kind::Class);
        let mut current = failing.input.clone();
        let mut best = None;
        for _ in 0..SHRINK_ROUNDS {
            let variants = deletions(&current, class_calls);
            let Some(text) = literal_batch(&variants) else {
                break;
            };
            let Ok(reference) = self.reference_endings(problem, &text, variants.len()) else {
                break;
            };
            let outcome = self.run_batch(problem, &text, variants.len(), code, Some(budget))?;
            let Ending::Batch(endings) = &outcome.ending else {
                break;
            };
            let kept = variants
                .iter()
                .zip(endings)
                .zip(&reference.expected)
                .find_map(|((variant, ending), want)| {
                    if !same_kind(want, failing.expected) {
                        return None;
                    }
                    let (class, detail) =
                        judge_input(ending, want, generator, &problem.entry_point)?;
                    (class == failing.class).then(|| (variant.clone(), detail))
                });
            match kept {
                Some((variant, detail)) => {
                    current = variant.clone();
                    best = Some((variant, detail));
                }
                None => break,
            }
        }
        Ok(best)
    }
}

/// A generated input the candidate failed, for [`Evaluator::shrink`].
pub(super) struct Failing<'a> {
    pub(super) input: &'a Value,
    /// How the reference ended on it.
    pub(super) expected: &'a Expected,
    pub(super) class: CaseOutcome,
}

/// Rounds of shrinking a failing input: each one batch for the reference
/// and one for the candidate, and only when a candidate has failed.
const SHRINK_ROUNDS: usize = 12;

/// The most variants one round tries.
const SHRINK_VARIANTS: usize = 48;

/// Past this many characters of text, a failing input is not shrunk.
const SHRINK_MAX_CHARS: usize = 20_000;

/// `input` (an argument tuple, or a class's calls) less one run of items:
/// of one argument that is a list, tuple or string, or of the calls after
/// `__init__` (`class_calls`). Runs of half the items first, down to single
/// items, so the largest cuts come first; at most [`SHRINK_VARIANTS`].
fn deletions(input: &Value, class_calls: bool) -> Vec<Value> {
    let Value::Tuple(items) = input else {
        return Vec::new();
    };
    let mut variants = Vec::new();
    if class_calls {
        if let Some((init, calls)) = items.split_first() {
            for shorter in cuts(calls.len()).map(|(start, end)| {
                let mut kept = vec![init.clone()];
                kept.extend(calls[..start].iter().cloned());
                kept.extend(calls[end..].iter().cloned());
                kept
            }) {
                variants.push(Value::Tuple(shorter));
            }
        }
    } else {
        // Each argument's cuts in turn, so every argument has its share of
        // the variants.
        let mut each: Vec<std::vec::IntoIter<Value>> = Vec::new();
        for (position, argument) in items.iter().enumerate() {
            let shorter: Vec<Value> = match argument {
                Value::List(values) | Value::Tuple(values) => cuts(values.len())
                    .map(|(start, end)| {
                        let kept = [&values[..start], &values[end..]].concat();
                        match argument {
                            Value::List(_) => Value::List(kept),
                            _ => Value::Tuple(kept),
                        }
                    })
                    .collect(),
                Value::Str(text) => {
                    let chars: Vec<char> = text.chars().collect();
                    cuts(chars.len())
                        .map(|(start, end)| {
                            Value::Str(chars[..start].iter().chain(&chars[end..]).collect())
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            let whole: Vec<Value> = shorter
                .into_iter()
                .map(|argument| {
                    let mut arguments = items.clone();
                    arguments[position] = argument;
                    Value::Tuple(arguments)
                })
                .collect();
            each.push(whole.into_iter());
        }
        while variants.len() < SHRINK_VARIANTS {
            let before = variants.len();
            variants.extend(each.iter_mut().filter_map(Iterator::next));
            if variants.len() == before {
                break;
            }
        }
    }
    variants.truncate(SHRINK_VARIANTS);
    variants
}

/// The runs `[start, end)` to delete from `len` items: halves, quarters and
/// so on, down to single items.
fn cuts(len: usize) -> impl Iterator<Item = (usize, usize)> {
    std::iter::successors((len >= 1).then_some(len.div_ceil(2)), |&run: &usize| {
        (run > 1).then_some(run / 2)
    })
    .flat_map(move |run| {
        (0..len)
            .step_by(run)
            .map(move |start| (start, (start + run).min(len)))
    })
}

/// Generator code that binds `inputs` to `variants`, or `None` when one
/// cannot be written back as Python exactly (a part that is not a plain
/// value, an integer too long to print) or is too long to be worth it.
fn literal_batch(variants: &[Value]) -> Option<String> {
    if variants.is_empty() {
        return None;
    }
    let mut text = String::from("nan = float('nan')\ninf = float('inf')\ninputs = [\n");
    for variant in variants {
        if !writable(variant) {
            return None;
        }
        let literal = variant.to_string();
        if literal.len() > SHRINK_MAX_CHARS {
            return None;
        }
        text.push_str(&literal);
        text.push_str(",\n");
    }
    text.push_str("]\n");
    Some(text)
}

/// Whether `value` prints as Python that reads back to it.
fn writable(value: &Value) -> bool {
    match value {
        Value::Unrepresentable(_) => false,
        // Well under the digits past which an int prints as its size.
        Value::Int(int) => int.bits() < 10_000,
        Value::List(items) | Value::Tuple(items) | Value::Set(items) | Value::FrozenSet(items) => {
            items.iter().all(writable)
        }
        Value::Dict(pairs) => pairs
            .iter()
            .all(|(key, value)| writable(key) && writable(value)),
        Value::None | Value::Bool(_) | Value::Float(_) | Value::Str(_) | Value::Bytes(_) => true,
    }
}

#[cfg(test)]
mod tests;
