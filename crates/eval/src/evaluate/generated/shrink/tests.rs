use super::{cuts, deletions};
use fuelbench_sandbox::Value;

/// Halves first, then quarters, down to every single item.
#[test]
fn cuts_go_from_halves_to_single_items() {
    let runs: Vec<(usize, usize)> = cuts(4).collect();
    assert_eq!(runs, [(0, 2), (2, 4), (0, 1), (1, 2), (2, 3), (3, 4)]);
    assert_eq!(cuts(0).count(), 0);
    assert_eq!(cuts(1).collect::<Vec<_>>(), [(0, 1)]);
}

/// A class's `__init__` is never deleted; a function's arguments lose
/// items, never their place.
#[test]
fn deletions_keep_init_and_every_argument() {
    let init = Value::Tuple(vec![Value::Str("__init__".into()), Value::Tuple(vec![])]);
    let call = Value::Tuple(vec![Value::Str("pop".into()), Value::Tuple(vec![])]);
    let calls = Value::Tuple(vec![init.clone(), call.clone(), call.clone()]);
    for variant in deletions(&calls, true) {
        let Value::Tuple(kept) = variant else {
            panic!("a tuple")
        };
        assert_eq!(kept[0], init);
        assert!(kept.len() < 3);
    }
    let arguments = Value::Tuple(vec![
        Value::List(vec![Value::Bool(true); 3]),
        Value::Str("ab".into()),
        Value::Bool(false),
    ]);
    let variants = deletions(&arguments, false);
    assert!(!variants.is_empty());
    assert!(
        variants
            .iter()
            .all(|variant| matches!(variant, Value::Tuple(items) if items.len() == 3))
    );
    assert!(variants.contains(&Value::Tuple(vec![
        Value::List(vec![Value::Bool(true); 3]),
        Value::Str("b".into()),
        Value::Bool(false),
    ])));
}
