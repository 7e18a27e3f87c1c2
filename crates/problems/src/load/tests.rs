use super::*;

const VALID_TOML: &str = r#"
id = "p99_double"
title = "Double"
difficulty = 1
category = "warm-up"
entry_point = "double"
kind = "function"
refactor_request = "Make it clearer."

small = [
  { args = "(1,)", expected = "2" },
  { args = "(2,)", expected = "4" },
  { args = "(3,)", expected = "6" },
  { args = "(4,)", expected = "8" },
  { args = "(5,)", expected = "10" },
]
edge = [
  { args = "(0,)", expected = "0" },
  { args = "(-1,)", expected = "-2" },
  { args = "(10**30,)", expected = "2 * 10**30" },
  { args = "(0.5,)", expected = "1.0", compare = { rel_tol = 1e-12 } },
  { name = "not a number", args = "(None,)", raises = "TypeError" },
]

[complexity]
expected = "O(1)"
sizes = [10, 20, 40, 80, 160, 320]
setup = "args = (n,)"
"#;

/// Writes a problem folder with `toml` as its problem.toml.
fn folder(toml: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("p99_double");
    std::fs::create_dir_all(dir.join("wrong")).expect("mkdir");
    std::fs::write(dir.join("problem.toml"), toml).expect("write");
    std::fs::write(dir.join("prompt.md"), "Write `double(x)`.").expect("write");
    std::fs::write(
        dir.join("reference.py"),
        "def double(x):\n    return 2 * x\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("wrong/triple.py"),
        "# expect: wrong_answer\ndef double(x):\n    return 3 * x\n",
    )
    .expect("write");
    root
}

fn load_toml(toml: &str) -> Result<Problem> {
    let root = folder(toml);
    load(&root.path().join("p99_double"))
}

/// Replaces `from` with `to` in the valid problem and checks the error names
/// problem.toml, `field` and a reason containing `reason`.
fn check_invalid(from: &str, to: &str, field: &str, reason: &str) {
    assert!(VALID_TOML.contains(from), "the fixture has no {from:?}");
    let error = load_toml(&VALID_TOML.replacen(from, to, 1)).expect_err("must be rejected");
    match &error {
        Error::Invalid {
            file,
            field: got_field,
            reason: got_reason,
        } => {
            assert!(file.ends_with("problem.toml"), "{error}");
            assert_eq!(got_field, field, "{error}");
            assert!(got_reason.contains(reason), "{error}");
        }
        other => panic!("expected Invalid for {field}, got {other}"),
    }
}

#[test]
fn a_valid_problem_loads() {
    let problem = load_toml(VALID_TOML).expect("valid");
    assert_eq!(problem.id, "p99_double");
    assert_eq!(problem.tests().count(), 10);
    assert_eq!(problem.edge[4].name, "not a number");
    assert_eq!(problem.edge[4].expect, Expect::Raises("TypeError".into()));
    assert_eq!(problem.edge[3].compare.rel_tol, 1e-12);
    assert_eq!(problem.small[0].name, "small[0]");
    assert_eq!(problem.complexity.expected, Class::Constant);
    assert_eq!(problem.wrong.len(), 1);
    assert_eq!(problem.wrong[0].expect, Failure::WrongAnswer);
}

#[test]
fn malformed_fields_name_the_field_and_the_reason() {
    check_invalid(
        "difficulty = 1",
        "difficulty = 7",
        "difficulty",
        "not 1 to 4",
    );
    check_invalid(
        "id = \"p99_double\"",
        "id = \"p98_other\"",
        "id",
        "the folder is",
    );
    check_invalid(
        "entry_point = \"double\"",
        "entry_point = \"2x\"",
        "entry_point",
        "not a Python identifier",
    );
    check_invalid("title = \"Double\"", "title = \" \"", "title", "empty");
    check_invalid(
        "{ args = \"(5,)\", expected = \"10\" },",
        "",
        "small",
        "at least 5",
    );
    check_invalid(
        "{ args = \"(1,)\", expected = \"2\" }",
        "{ args = \"(1,)\" }",
        "small[0].expected",
        "exactly one",
    );
    check_invalid(
        "{ args = \"(2,)\", expected = \"4\" }",
        "{ calls = \"[]\", expected = \"4\" }",
        "small[1].args",
        "needs `args`",
    );
    check_invalid(
        "raises = \"TypeError\"",
        "raises = \"not an error\"",
        "edge[4].raises",
        "not an exception name",
    );
    check_invalid(
        "rel_tol = 1e-12",
        "rel_tol = -1.0",
        "edge[3].compare",
        "non-negative",
    );
    check_invalid(
        "expected = \"O(1)\"",
        "expected = \"O(n!)\"",
        "complexity.expected",
        "not a class",
    );
    check_invalid(
        "sizes = [10, 20, 40, 80, 160, 320]",
        "sizes = [10, 20, 40, 80, 160]",
        "complexity.sizes",
        "at least 6",
    );
    check_invalid(
        "sizes = [10, 20, 40, 80, 160, 320]",
        "sizes = [10, 20, 40, 80, 160, 290]",
        "complexity.sizes",
        "less than 30x",
    );
    check_invalid(
        "sizes = [10, 20, 40, 80, 160, 320]",
        "sizes = [10, 40, 20, 80, 160, 320]",
        "complexity.sizes",
        "increasing",
    );
}

#[test]
fn unknown_and_missing_fields_are_parse_errors_with_the_file() {
    for toml in [
        VALID_TOML.replace("title = \"Double\"", "titel = \"Double\""),
        VALID_TOML.replace("kind = \"function\"", ""),
    ] {
        let error = load_toml(&toml).expect_err("must be rejected");
        assert!(matches!(error, Error::Toml { .. }), "{error}");
        assert!(error.to_string().contains("problem.toml"), "{error}");
    }
}

#[test]
fn a_wrong_solution_without_its_expectation_is_rejected() {
    let root = folder(VALID_TOML);
    let wrong = root.path().join("p99_double/wrong/triple.py");
    std::fs::write(&wrong, "def double(x):\n    return 3 * x\n").expect("write");
    let error = load(&root.path().join("p99_double")).expect_err("must be rejected");
    assert!(
        error.to_string().contains("triple.py") && error.to_string().contains("# expect:"),
        "{error}"
    );
}

#[test]
fn a_prompt_that_never_names_the_entry_point_is_rejected() {
    let root = folder(VALID_TOML);
    std::fs::write(
        root.path().join("p99_double/prompt.md"),
        "Write a function.",
    )
    .expect("write");
    let error = load(&root.path().join("p99_double")).expect_err("must be rejected");
    assert!(
        error.to_string().contains("prompt.md") && error.to_string().contains("double"),
        "{error}"
    );
}
