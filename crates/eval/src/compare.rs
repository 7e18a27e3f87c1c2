//! Whether what a candidate returned matches a case's expected value.
//!
//! Both sides are [`Value`]s the host decoded: the candidate's from its own
//! check, the expected one from a sandbox that never held candidate code.
//! Nothing here runs in the guest, so no object of the candidate's can take
//! part in its own judgement.
//!
//! The rules, per [`Compare`]. The expected value declares the type: a
//! problem's literal says what its prompt promises, and a value of another
//! type is a different answer, however Python's `==` would see it.
//!
//! - `bool` matches only `bool`.
//! - An `int` matches only an `int`, equal exactly, however large: a float
//!   near it is not the integer the prompt promised.
//! - A `float` matches only a `float`, within `math.isclose(got, want,
//!   rel_tol, abs_tol)`; NaN matches NaN. An `int` is not a float, even when
//!   equal (a `/` that should give `2.0` and gives `2`).
//! - A list matches only a list, a tuple only a tuple, item by item; dicts
//!   match when their keys are equal (as Python's dict lookup sees keys) and
//!   each value matches.
//! - Anything else matches when it has the same type and is equal as Python
//!   sees it (`str`, `bytes`, `None`, sets).
//! - `unordered`: the outer sequence matches as a multiset under the rules
//!   above, and must be of the expected kind (a list for a list, a tuple for
//!   a tuple, a set or frozenset for either).
//!
//! A value that is not made of exact built-in types matches nothing.

use fuelbench_problems::{Compare, CompareMode};
use fuelbench_sandbox::Value;
use num_bigint::BigInt;
use num_traits::FromPrimitive;

/// Whether `got` matches `want` under `compare`.
pub fn matches(got: &Value, want: &Value, compare: &Compare) -> bool {
    match compare.mode {
        CompareMode::Exact => close(got, want, compare),
        CompareMode::Unordered => {
            let (Some(got), Some(want)) = (collection(got), collection(want)) else {
                return false;
            };
            let (kind, got) = got;
            if kind != want.0 {
                return false;
            }
            let want = want.1;
            if got.len() != want.len() {
                return false;
            }
            let mut remaining: Vec<&Value> = got.iter().collect();
            want.iter().all(|wanted| {
                match remaining
                    .iter()
                    .position(|candidate| close(candidate, wanted, compare))
                {
                    Some(index) => {
                        remaining.swap_remove(index);
                        true
                    }
                    None => false,
                }
            })
        }
    }
}

/// The kind of collection a value is, and its items: lists, tuples, and
/// sets and frozensets (which Python's `==` treats alike).
fn collection(value: &Value) -> Option<(u8, &[Value])> {
    match value {
        Value::List(items) => Some((0, items)),
        Value::Tuple(items) => Some((1, items)),
        Value::Set(items) | Value::FrozenSet(items) => Some((2, items)),
        _ => None,
    }
}

fn close(got: &Value, want: &Value, compare: &Compare) -> bool {
    match (got, want) {
        (Value::Bool(got), Value::Bool(want)) => got == want,
        (Value::Bool(_), _) | (_, Value::Bool(_)) => false,
        (Value::Int(got), Value::Int(want)) => got == want,
        (Value::Float(got), Value::Float(want)) => {
            if got.is_nan() || want.is_nan() {
                return got.is_nan() && want.is_nan();
            }
            is_close(*got, *want, compare.rel_tol, compare.abs_tol)
        }
        (Value::List(got), Value::List(want)) | (Value::Tuple(got), Value::Tuple(want)) => {
            got.len() == want.len()
                && got
                    .iter()
                    .zip(want)
                    .all(|(got, want)| close(got, want, compare))
        }
        (Value::Dict(got), Value::Dict(want)) => {
            got.len() == want.len()
                && want.iter().all(|(key, wanted)| {
                    got.iter()
                        .find(|(got_key, _)| python_eq(got_key, key))
                        .is_some_and(|(_, value)| close(value, wanted, compare))
                })
        }
        _ => same_type(got, want) && python_eq(got, want),
    }
}

/// `math.isclose`, as CPython computes it.
fn is_close(a: f64, b: f64, rel_tol: f64, abs_tol: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let diff = (b - a).abs();
    diff <= (rel_tol * b).abs() || diff <= (rel_tol * a).abs() || diff <= abs_tol
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Python's `==` between plain values, as sets and dict keys use it:
/// `1 == 1.0 == True`, `(1, 2) == (1, 2)`, `{1} == frozenset({1})`. A NaN
/// equals nothing, as between two distinct NaN objects.
pub fn python_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Bytes(a), Value::Bytes(b)) => a == b,
        (Value::Bool(_) | Value::Int(_), Value::Bool(_) | Value::Int(_)) => as_int(a) == as_int(b),
        (Value::Float(a), Value::Float(b)) => a == b,
        (Value::Bool(_) | Value::Int(_), Value::Float(float))
        | (Value::Float(float), Value::Bool(_) | Value::Int(_)) => {
            let int = if let Value::Float(_) = a { b } else { a };
            float.is_finite()
                && float.fract() == 0.0
                && BigInt::from_f64(*float).is_some_and(|exact| Some(exact) == as_int(int))
        }
        (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| python_eq(a, b))
        }
        (Value::Set(a) | Value::FrozenSet(a), Value::Set(b) | Value::FrozenSet(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|item| b.iter().any(|other| python_eq(item, other)))
        }
        (Value::Dict(a), Value::Dict(b)) => {
            a.len() == b.len()
                && a.iter().all(|(key, value)| {
                    b.iter().any(|(other_key, other)| {
                        python_eq(key, other_key) && python_eq(value, other)
                    })
                })
        }
        _ => false,
    }
}

fn as_int(value: &Value) -> Option<BigInt> {
    match value {
        Value::Bool(flag) => Some(BigInt::from(u8::from(*flag))),
        Value::Int(int) => Some(int.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
