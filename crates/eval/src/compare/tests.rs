use fuelbench_problems::{Compare, CompareMode};
use fuelbench_sandbox::Value;
use num_bigint::BigInt;
use proptest::prelude::*;

use super::{matches, python_eq};

fn exact() -> Compare {
    Compare::default()
}

fn unordered() -> Compare {
    Compare {
        mode: CompareMode::Unordered,
        ..Compare::default()
    }
}

fn int(value: i64) -> Value {
    Value::Int(BigInt::from(value))
}

fn big(text: &str) -> Value {
    Value::Int(text.parse().expect("a decimal integer"))
}

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

fn tuple(items: Vec<Value>) -> Value {
    Value::Tuple(items)
}

#[test]
fn ints_match_exactly_however_large() {
    let ten_to_the_40 = big("10000000000000000000000000000000000000000");
    assert!(matches(&ten_to_the_40, &ten_to_the_40, &exact()));
    assert!(!matches(
        &big("10000000000000000000000000000000000000001"),
        &ten_to_the_40,
        &exact()
    ));
    assert!(!matches(&int(3), &int(4), &exact()));
}

#[test]
fn floats_match_within_the_tolerances() {
    assert!(matches(
        &Value::Float(0.1 + 0.2),
        &Value::Float(0.3),
        &exact()
    ));
    assert!(!matches(
        &Value::Float(0.3001),
        &Value::Float(0.3),
        &exact()
    ));
    let loose = Compare {
        rel_tol: 1e-3,
        ..Compare::default()
    };
    assert!(matches(&Value::Float(0.3001), &Value::Float(0.3), &loose));
    // The expected value declares the type: an int is not a float, and a
    // float is not the exact integer promised.
    assert!(!matches(&int(2), &Value::Float(2.0), &exact()));
    assert!(!matches(&Value::Float(2.0), &int(2), &exact()));
    assert!(matches(
        &Value::Float(f64::NAN),
        &Value::Float(f64::NAN),
        &exact()
    ));
    assert!(!matches(
        &Value::Float(f64::NAN),
        &Value::Float(1.0),
        &exact()
    ));
    assert!(matches(
        &Value::Float(f64::INFINITY),
        &Value::Float(f64::INFINITY),
        &exact()
    ));
    assert!(!matches(
        &Value::Float(f64::INFINITY),
        &Value::Float(f64::NEG_INFINITY),
        &exact()
    ));
    assert!(matches(&Value::Float(-0.0), &Value::Float(0.0), &exact()));
}

#[test]
fn an_int_too_large_for_a_float_matches_no_float() {
    let huge = big(&format!("1{}", "0".repeat(400)));
    assert!(!matches(&huge, &Value::Float(f64::INFINITY), &exact()));
    assert!(!matches(&huge, &Value::Float(1e300), &exact()));
}

#[test]
fn bools_match_only_bools() {
    assert!(matches(&Value::Bool(true), &Value::Bool(true), &exact()));
    assert!(!matches(&int(1), &Value::Bool(true), &exact()));
    assert!(!matches(&Value::Bool(false), &int(0), &exact()));
}

#[test]
fn lists_match_lists_and_tuples_tuples_item_by_item() {
    let want = list(vec![
        tuple(vec![int(1), int(6)]),
        tuple(vec![int(8), int(10)]),
    ]);
    let same = list(vec![
        tuple(vec![int(1), int(6)]),
        tuple(vec![int(8), int(10)]),
    ]);
    assert!(matches(&same, &want, &exact()));
    let swapped = tuple(vec![
        list(vec![int(1), int(6)]),
        list(vec![int(8), int(10)]),
    ]);
    assert!(
        !matches(&swapped, &want, &exact()),
        "a prompt that says tuple means tuple"
    );
    assert!(!matches(&list(vec![int(1)]), &want, &exact()));
    // Unordered: the outer kind still counts; sets and frozensets are alike.
    let pair = |items: Vec<Value>| tuple(items);
    assert!(matches(
        &list(vec![int(2), int(1)]),
        &list(vec![int(1), int(2)]),
        &unordered()
    ));
    assert!(!matches(
        &pair(vec![int(2), int(1)]),
        &list(vec![int(1), int(2)]),
        &unordered()
    ));
    assert!(matches(
        &Value::FrozenSet(vec![int(1)]),
        &Value::Set(vec![int(1)]),
        &unordered()
    ));
}

#[test]
fn an_exact_integer_is_not_matched_by_a_close_float() {
    let huge = big("123456789012345678901234567890");
    assert!(!matches(
        &Value::Float(1.2345678901234568e29),
        &huge,
        &exact()
    ));
    assert!(matches(&huge, &huge, &exact()));
}

#[test]
fn dicts_match_by_keys_then_values() {
    let want = Value::Dict(vec![
        (Value::Str("a".into()), Value::Float(1.0)),
        (int(2), list(vec![])),
    ]);
    let got = Value::Dict(vec![
        (Value::Float(2.0), list(vec![])),
        (Value::Str("a".into()), Value::Float(1.0 + 1e-12)),
    ]);
    assert!(matches(&got, &want, &exact()));
    let missing = Value::Dict(vec![(Value::Str("a".into()), Value::Float(1.0))]);
    assert!(!matches(&missing, &want, &exact()));
}

#[test]
fn other_types_must_be_the_same_type_and_equal() {
    let text = Value::Str("abc".into());
    assert!(matches(&text, &text, &exact()));
    assert!(!matches(&Value::Bytes(b"abc".to_vec()), &text, &exact()));
    assert!(!matches(&Value::None, &list(vec![]), &exact()));
    let set = Value::Set(vec![int(1), int(2)]);
    assert!(matches(&Value::Set(vec![int(2), int(1)]), &set, &exact()));
    assert!(!matches(
        &Value::FrozenSet(vec![int(1), int(2)]),
        &set,
        &exact()
    ));
}

#[test]
fn unrepresentable_values_match_nothing() {
    let rigged = Value::Unrepresentable("AlwaysEqual".into());
    for want in [
        int(1),
        list(vec![]),
        Value::None,
        Value::Str("AlwaysEqual".into()),
    ] {
        assert!(!matches(&rigged, &want, &exact()), "{want}");
        assert!(!matches(
            &list(vec![rigged.clone()]),
            &list(vec![want.clone()]),
            &exact()
        ));
    }
}

#[test]
fn unordered_matches_as_a_multiset() {
    let want = list(vec![int(1), int(2), int(2)]);
    assert!(matches(
        &list(vec![int(2), int(1), int(2)]),
        &want,
        &unordered()
    ));
    assert!(!matches(
        &Value::Tuple(vec![int(2), int(2), int(1)]),
        &want,
        &unordered()
    ));
    assert!(!matches(
        &list(vec![int(1), int(1), int(2)]),
        &want,
        &unordered()
    ));
    assert!(!matches(&list(vec![int(1), int(2)]), &want, &unordered()));
    assert!(!matches(&Value::Str("122".into()), &want, &unordered()));
}

#[test]
fn python_equality_crosses_numeric_types() {
    assert!(python_eq(&int(1), &Value::Float(1.0)));
    assert!(python_eq(&Value::Bool(true), &int(1)));
    assert!(!python_eq(&int(1), &Value::Float(1.5)));
    // 2**53 + 1 has no float; Python compares exactly.
    assert!(!python_eq(
        &big("9007199254740993"),
        &Value::Float(9007199254740992.0)
    ));
    assert!(python_eq(
        &Value::Set(vec![int(1)]),
        &Value::FrozenSet(vec![Value::Float(1.0)])
    ));
    assert!(!python_eq(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
}

/// Plain values of every kind, floats without NaN (which equals nothing).
fn plain_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Int(BigInt::from(n))),
        any::<i128>().prop_map(|n| Value::Int(BigInt::from(n) * BigInt::from(n))),
        any::<f64>()
            .prop_filter("NaN equals nothing", |f| !f.is_nan())
            .prop_map(Value::Float),
        ".{0,8}".prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Tuple),
            proptest::collection::vec((".{0,4}".prop_map(Value::Str), inner), 0..4).prop_map(
                |pairs| {
                    // Dict keys are unique in Python.
                    let mut unique: Vec<(Value, Value)> = Vec::new();
                    for (key, value) in pairs {
                        if !unique.iter().any(|(other, _)| *other == key) {
                            unique.push((key, value));
                        }
                    }
                    Value::Dict(unique)
                }
            ),
        ]
    })
}

proptest! {
    #[test]
    fn every_plain_value_matches_itself(value in plain_value()) {
        prop_assert!(matches(&value, &value, &exact()));
        prop_assert!(python_eq(&value, &value));
    }

    #[test]
    fn wrapping_a_value_in_an_unrepresentable_part_never_matches(value in plain_value()) {
        let rigged = Value::List(vec![value.clone(), Value::Unrepresentable("X".into())]);
        let want = Value::List(vec![value.clone(), value]);
        prop_assert!(!matches(&rigged, &want, &exact()));
    }

    #[test]
    fn unordered_ignores_the_order_of_the_outer_list(
        items in proptest::collection::vec(plain_value(), 0..8),
        seed in any::<u64>(),
    ) {
        let mut shuffled = items.clone();
        let n = shuffled.len();
        if n > 1 {
            for i in 0..n {
                let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % n as u64) as usize;
                shuffled.swap(i, j);
            }
        }
        prop_assert!(matches(&Value::List(shuffled), &Value::List(items), &unordered()));
    }

    #[test]
    fn a_different_int_never_matches(a in any::<i64>(), b in any::<i64>()) {
        prop_assume!(a != b);
        prop_assert!(!matches(&int(a), &int(b), &exact()));
    }

    #[test]
    fn matching_is_symmetric_for_exact_values(a in plain_value(), b in plain_value()) {
        // Tolerances are symmetric in isclose; so is every other rule.
        prop_assert_eq!(matches(&a, &b, &exact()), matches(&b, &a, &exact()));
    }
}
