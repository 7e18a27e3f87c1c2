use crate::support::{fuelbench, repo_path};

fn json_stdout(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn run_prints_the_outcome_as_json() {
    let guest = repo_path("tests/guests/sys_exit_3.py");
    let output = fuelbench(&["sandbox", "run", guest.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let outcome = json_stdout(&output);
    let keys: Vec<&str> = outcome
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "detail",
            "exit_code",
            "fuel_used",
            "status",
            "stderr",
            "stdout",
            "wall_ms"
        ]
    );
    assert_eq!(outcome["status"], "exited");
    assert_eq!(outcome["exit_code"], 3);
    assert_eq!(outcome["stdout"], "before\n");
    assert!(
        outcome["fuel_used"].as_u64().is_some_and(|fuel| fuel > 0),
        "{outcome}"
    );
    assert!(outcome["wall_ms"].as_f64().is_some(), "{outcome}");
}

#[test]
fn a_program_cut_off_is_still_exit_code_zero() {
    let guest = repo_path("tests/guests/infinite_loop.py");
    let output = fuelbench(&[
        "sandbox",
        "run",
        "--fuel",
        "50000000",
        guest.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let outcome = json_stdout(&output);
    assert_eq!(outcome["status"], "out_of_fuel");
    assert_eq!(outcome["exit_code"], serde_json::Value::Null);
    assert_eq!(outcome["fuel_used"], 50_000_000);
}

#[test]
fn wall_clock_cut_off_reports_no_fuel() {
    let guest = repo_path("tests/guests/busy_loop_past_wall_limit.py");
    let output = fuelbench(&[
        "sandbox",
        "run",
        "--wall-ms",
        "100",
        "--fuel",
        "1000000000000000",
        guest.to_str().expect("utf-8 path"),
    ]);
    let outcome = json_stdout(&output);
    assert_eq!(outcome["status"], "wall_clock_exceeded");
    assert_eq!(outcome["fuel_used"], serde_json::Value::Null);
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let output = fuelbench(&["sandbox", "run", "/nonexistent/fuelbench-test.py"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: failed to read /nonexistent/fuelbench-test.py"),
        "{stderr}"
    );
}

#[test]
fn a_bad_flag_is_a_usage_error() {
    let output = fuelbench(&["sandbox", "run", "--fuel", "lots", "x.py"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_missing_interpreter_says_how_to_build_it() {
    let guest = repo_path("tests/guests/sys_exit_3.py");
    let output = fuelbench(&[
        "--interpreter",
        "/nonexistent/interpreter",
        "sandbox",
        "run",
        guest.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("python-wasm/build.sh"), "{stderr}");
}
