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
sizes = [10, 20, 40, 80, 160, 1000]
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
        "sizes = [10, 20, 40, 80, 160, 1000]",
        "sizes = [10, 20, 40, 80, 160]",
        "complexity.sizes",
        "at least 6",
    );
    check_invalid(
        "sizes = [10, 20, 40, 80, 160, 1000]",
        "sizes = [10, 20, 40, 80, 160, 990]",
        "complexity.sizes",
        "less than 100x",
    );
    check_invalid(
        "sizes = [10, 20, 40, 80, 160, 1000]",
        "sizes = [10, 40, 20, 80, 160, 1000]",
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

#[test]
fn requirements_name_real_cases_and_plants() {
    let requirement = |cases: &str, plant: &str| {
        format!(
            "{VALID_TOML}\n[[requirement]]\ntext = \"doubles\"\ncases = {cases}\nplant = \"{plant}\"\n"
        )
    };
    let problem = load_toml(&requirement(
        r#"["small[0]", "not a number", "complexity"]"#,
        "triple",
    ))
    .expect("valid");
    assert_eq!(problem.requirements.len(), 1);
    assert_eq!(problem.requirements[0].plant, "triple");
    for (cases, plant, field, reason) in [
        (
            r#"["small[9]"]"#,
            "triple",
            "requirement[0].cases",
            "\"small[9]\" is neither",
        ),
        ("[]", "triple", "requirement[0].cases", "names no case"),
        (
            r#"["small[0]"]"#,
            "quadruple",
            "requirement[0].plant",
            "no wrong/quadruple.py",
        ),
    ] {
        let error = load_toml(&requirement(cases, plant)).expect_err("must be rejected");
        match &error {
            Error::Invalid {
                field: got,
                reason: why,
                ..
            } => assert!(got == field && why.contains(reason), "{error}"),
            other => panic!("expected Invalid, got {other}"),
        }
    }
}

#[test]
fn a_complexity_plant_names_its_class_and_no_other_plant_does() {
    let plant = |header: &str| {
        let root = folder(VALID_TOML);
        std::fs::write(
            root.path().join("p99_double/wrong/triple.py"),
            format!("{header}\ndef double(x):\n    return 3 * x\n"),
        )
        .expect("write");
        load(&root.path().join("p99_double"))
    };
    let loaded = plant("# expect: complexity_mismatch O(n^2)").expect("valid");
    assert_eq!(loaded.wrong[0].class, Some(Class::Quadratic));
    for (header, reason) in [
        ("# expect: complexity_mismatch", "names the class"),
        ("# expect: complexity_mismatch O(n!)", "not a class"),
        ("# expect: wrong_answer O(n)", "only a complexity mismatch"),
    ] {
        let error = plant(header).expect_err("must be rejected");
        assert!(error.to_string().contains("triple.py"), "{error}");
        match &error {
            Error::Invalid { reason: why, .. } => assert!(why.contains(reason), "{error}"),
            other => panic!("expected Invalid, got {other}"),
        }
    }
}

#[test]
fn forbidden_names_are_python_names_and_a_case_requirements_may_name() {
    let with = |forbidden: &str| {
        VALID_TOML.replacen(
            "kind = \"function\"",
            &format!("kind = \"function\"\nforbidden = {forbidden}"),
            1,
        )
    };
    let problem = load_toml(&format!(
        "{}\n[[requirement]]\ntext = \"no eval\"\ncases = [\"{FORBIDDEN}\"]\nplant = \"triple\"\n",
        with(r#"["eval", "ast"]"#)
    ))
    .expect("valid");
    assert_eq!(problem.forbidden, ["eval", "ast"]);
    assert_eq!(problem.test_count(), 11);
    check_invalid(
        "kind = \"function\"",
        "kind = \"function\"\nforbidden = [\"os.system\"]",
        "forbidden[0]",
        "not a Python name",
    );
    // Without forbidden names there is no such case to name.
    let error = load_toml(&format!(
        "{VALID_TOML}\n[[requirement]]\ntext = \"no eval\"\ncases = [\"{FORBIDDEN}\"]\nplant = \"triple\"\n"
    ))
    .expect_err("must be rejected");
    assert!(
        error.to_string().contains("requirement[0].cases"),
        "{error}"
    );
}

#[test]
fn unchanged_inputs_apply_to_every_case_unless_one_says_otherwise() {
    let toml = VALID_TOML
        .replacen(
            "kind = \"function\"",
            "kind = \"function\"\nunchanged_inputs = true",
            1,
        )
        .replacen(
            "{ args = \"(0,)\", expected = \"0\" }",
            "{ args = \"(0,)\", expected = \"0\", unchanged_inputs = false }",
            1,
        );
    let problem = load_toml(&toml).expect("valid");
    let watched: Vec<bool> = problem.tests().map(|case| case.unchanged_inputs).collect();
    assert_eq!(watched.iter().filter(|watched| !**watched).count(), 1);
    assert!(!problem.edge[0].unchanged_inputs);
    assert!(problem.small.iter().all(|case| case.unchanged_inputs));
}
