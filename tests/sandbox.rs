use std::collections::BTreeSet;
use std::time::Duration;

use fuelbench_sandbox::{Limits, Program, RunOutcome, Status};

use crate::support::{repo_path, sandbox};

/// Runs `tests/guests/<name>.py` and checks the outcome against the file's
/// own header:
///
/// ```text
/// # limits: fuel=N wall_ms=N memory_mib=N stdout_bytes=N stderr_bytes=N
/// # expect: status=S exit_code=N|null fuel=null stdout=TEXT stdout~TEXT
/// #         stdout!~TEXT stderr~TEXT stderr!~TEXT stdout_len=N stderr_len=N
/// ```
///
/// `=` is equality, `~` contains, `!~` does not contain; `\n` in TEXT is a
/// newline. After each guest the same sandbox must run the next program at
/// once: a hostile guest may fail itself, never the host.
fn check(name: &str) -> RunOutcome {
    let path = repo_path(&format!("tests/guests/{name}.py"));
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let limits = header_limits(&source);
    let outcome = sandbox()
        .run(&Program::new(&source), &limits)
        .unwrap_or_else(|error| panic!("{name}: the host failed: {error}"));
    let context = format!(
        "{name}: {outcome:#?}\nstdout: {}\nstderr: {}",
        outcome.stdout_lossy(),
        outcome.stderr_lossy()
    );

    for token in header_tokens(&source, "expect:") {
        let (key, op, value) = split_token(&token);
        let value = value.replace("\\n", "\n");
        match (key, op) {
            ("status", "=") => assert_eq!(outcome.status.as_str(), value, "{context}"),
            ("exit_code", "=") => assert_eq!(
                outcome
                    .exit_code
                    .map(|code| code.to_string())
                    .unwrap_or("null".into()),
                value,
                "{context}"
            ),
            ("fuel", "=") => {
                assert_eq!(value, "null", "only fuel=null is meaningful in a header");
                assert_eq!(outcome.fuel_used, None, "{context}");
            }
            ("stdout", "=") => assert_eq!(outcome.stdout_lossy(), value, "{context}"),
            ("stdout", "~") => assert!(outcome.stdout_lossy().contains(&value), "{context}"),
            ("stdout", "!~") => assert!(!outcome.stdout_lossy().contains(&value), "{context}"),
            ("stderr", "~") => assert!(outcome.stderr_lossy().contains(&value), "{context}"),
            ("stderr", "!~") => assert!(!outcome.stderr_lossy().contains(&value), "{context}"),
            ("stdout_len", "=") => assert_eq!(outcome.stdout.len().to_string(), value, "{context}"),
            ("stderr_len", "=") => assert_eq!(outcome.stderr.len().to_string(), value, "{context}"),
            _ => panic!("{name}: unknown expectation {token:?}"),
        }
    }

    let next = sandbox()
        .run(&Program::new("print('next')"), &Limits::default())
        .expect("the host still works");
    assert!(
        next.succeeded() && next.stdout == b"next\n",
        "{name}: the next run failed: {next:?}"
    );
    outcome
}

fn header_tokens(source: &str, prefix: &str) -> Vec<String> {
    source
        .lines()
        .take_while(|line| line.starts_with('#'))
        .filter_map(|line| line.trim_start_matches('#').trim().strip_prefix(prefix))
        .flat_map(|rest| {
            rest.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn split_token(token: &str) -> (&str, &str, &str) {
    for op in ["!~", "=", "~"] {
        if let Some((key, value)) = token.split_once(op)
            && !key.contains(['=', '~', '!'])
        {
            return (key, op, value);
        }
    }
    panic!("malformed header token {token:?}")
}

fn header_limits(source: &str) -> Limits {
    let mut limits = Limits::default();
    for token in header_tokens(source, "limits:") {
        let (key, _, value) = split_token(&token);
        let number: u64 = value
            .parse()
            .unwrap_or_else(|_| panic!("limit {token:?} is not a number"));
        match key {
            "fuel" => limits.fuel = number,
            "wall_ms" => limits.wall = Duration::from_millis(number),
            "memory_mib" => limits.memory_bytes = number << 20,
            "stdout_bytes" => limits.stdout_bytes = number as usize,
            "stderr_bytes" => limits.stderr_bytes = number as usize,
            _ => panic!("unknown limit {token:?}"),
        }
    }
    limits
}

macro_rules! guest_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*

        /// Every guest file has a test above, and every test a file.
        #[test]
        fn every_guest_file_is_checked() {
            // write_outside has a test of its own, below.
            let listed: BTreeSet<&str> = [$(stringify!($name)),*, "write_outside"].into_iter().collect();
            let on_disk: BTreeSet<String> = std::fs::read_dir(repo_path("tests/guests"))
                .expect("tests/guests exists")
                .map(|entry| entry.expect("readable entry").file_name().to_string_lossy().into_owned())
                .filter_map(|name| name.strip_suffix(".py").map(str::to_owned))
                .collect();
            let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
            assert_eq!(listed, on_disk);
        }
    };
}

guest_tests!(
    allocate_2_gib,
    busy_loop_past_wall_limit,
    import_ctypes,
    infinite_loop,
    list_root,
    open_socket,
    os_exit_4,
    print_100_mb,
    print_100_mb_in_lines,
    raises_at_import,
    read_environ,
    read_etc_passwd,
    real_module,
    random_is_seeded,
    recursion_deep,
    recursion_deep_limit_raised,
    run_subprocess,
    sleep_past_wall_limit,
    start_thread,
    stderr_flood,
    sys_exit_3,
    syntax_error,
);

#[test]
fn writes_outside_reach_no_host_file() {
    let stdlib_file = sandbox()
        .interpreter()
        .dir
        .join("lib/python3.11/fuelbench-escape.py");
    let outcome = check("write_outside");
    assert!(outcome.succeeded());
    assert!(!std::path::Path::new("/tmp/fuelbench-sandbox-escape").exists());
    assert!(!stdlib_file.exists());
    assert!(
        !std::env::current_dir()
            .expect("cwd")
            .join("fuelbench-escape-relative")
            .exists()
    );
}

#[test]
fn stdin_reaches_the_program() {
    let program =
        Program::new("import sys\nprint(sys.stdin.read().upper(), end='')").stdin(b"piped in\n");
    let outcome = sandbox()
        .run(&program, &Limits::default())
        .expect("host ok");
    assert_eq!(outcome.stdout_lossy(), "PIPED IN\n", "{outcome:?}");
}

#[test]
fn the_seed_decides_random_and_urandom() {
    let source = "import os, random\nprint(random.random(), os.urandom(4).hex())";
    let run = |seed| {
        sandbox()
            .run(&Program::new(source).seed(seed), &Limits::default())
            .expect("host ok")
            .stdout
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn fuel_is_identical_across_runs_and_threads() {
    let source =
        "words = {f'w{i}': i * i for i in range(3000)}\nprint(sorted(words, key=hash)[:3])";
    let fuel: BTreeSet<Option<u64>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    (0..10)
                        .map(|_| {
                            sandbox()
                                .run(&Program::new(source), &Limits::default())
                                .expect("host ok")
                        })
                        .inspect(|outcome| assert!(outcome.succeeded(), "{outcome:?}"))
                        .map(|outcome| outcome.fuel_used)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("no panic"))
            .collect()
    });
    assert_eq!(fuel.len(), 1, "fuel differed between runs: {fuel:?}");
}

#[test]
fn fuel_counts_only_the_programs_work() {
    let fuel = |source| {
        let outcome = sandbox()
            .run(&Program::new(source), &Limits::default())
            .expect("host ok");
        assert!(outcome.succeeded(), "{outcome:?}");
        outcome.fuel_used.expect("exited runs report fuel")
    };
    let empty = fuel("pass");
    // Start-up is a snapshot: well under a million instructions.
    assert!((10_000..2_000_000).contains(&empty), "{empty}");
    // The same work per iteration; sum(range(n)) would not do, its total
    // outgrows one 30-bit digit and each addition gets dearer.
    let small = fuel("for _ in range(10_000): pass");
    let large = fuel("for _ in range(1_000_000): pass");
    let ratio = (large - empty) as f64 / (small - empty) as f64;
    assert!(
        (90.0..110.0).contains(&ratio),
        "100x the work should cost about 100x the fuel, not {ratio}"
    );
}

#[test]
fn many_runs_on_two_threads_leak_nothing_and_share_nothing() {
    // Resident memory is per process, and the other tests running beside
    // this one move it; so the real work runs in a child process of its own.
    const ISOLATED: &str = "FUELBENCH_TEST_ISOLATED";
    if std::env::var_os(ISOLATED).is_none() {
        let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                "sandbox::many_runs_on_two_threads_leak_nothing_and_share_nothing",
            ])
            .args(["--test-threads", "1"])
            .env(ISOLATED, "1")
            .output()
            .expect("the test binary starts again");
        assert!(
            output.status.success(),
            "the isolated run failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    // Each run would see the previous run's global, module or random state
    // if anything survived between instances.
    let source = r#"
import sys, random
assert "leaked" not in globals(), "a global survived"
assert "fuelbench_marker" not in sys.modules, "a module survived"
leaked = 1
sys.modules["fuelbench_marker"] = sys
print(random.random())
"#;
    let first_value = "0.8444218515250481\n";
    let run_many = |count: usize| {
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    for _ in 0..count {
                        let outcome = sandbox()
                            .run(&Program::new(source), &Limits::default())
                            .expect("host ok");
                        assert!(
                            outcome.succeeded(),
                            "{outcome:?} {}",
                            outcome.stderr_lossy()
                        );
                        assert_eq!(outcome.stdout_lossy(), first_value);
                    }
                });
            }
        });
    };
    run_many(100);
    let warmed_up = resident_bytes();
    run_many(1000);
    let after = resident_bytes();
    let growth = after.saturating_sub(warmed_up);
    assert!(
        growth < 64 << 20,
        "resident memory grew by {growth} bytes over 2,000 runs"
    );
}

#[test]
fn a_memory_limit_below_the_interpreter_is_refused() {
    let limits = Limits {
        memory_bytes: 1 << 20,
        ..Limits::default()
    };
    let error = sandbox()
        .run(&Program::new("pass"), &limits)
        .expect_err("1 MiB cannot hold CPython");
    assert!(error.to_string().contains("below"), "{error}");
}

#[test]
fn exit_codes_follow_cpython() {
    let exit = |source: &str| {
        let outcome = sandbox()
            .run(&Program::new(source), &Limits::default())
            .expect("host ok");
        assert_eq!(outcome.status, Status::Exited, "{outcome:?}");
        (outcome.exit_code, outcome.stderr_lossy().into_owned())
    };
    assert_eq!(exit("import sys; sys.exit()").0, Some(0));
    assert_eq!(exit("import sys; sys.exit(None)").0, Some(0));
    assert_eq!(exit("raise SystemExit(256 + 7)").0, Some(7));
    let (code, stderr) = exit("import sys; sys.exit('bad input')");
    assert_eq!((code, stderr.as_str()), (Some(1), "bad input\n"));
}

/// Resident set size of this process, from /proc (Linux only, like CI).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm is readable");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm has RSS");
    pages * 4096
}

/// The fuel of a checked call is read by the host around the call alone:
/// the same on every repeat, and growing with the work, not with loading.
#[test]
fn a_checked_calls_fuel_is_read_by_the_host_and_repeats_exactly() {
    use fuelbench_sandbox::{CallKind, Check, Ending, Inputs};
    let candidate = "import json\nPADDING = [json.dumps(i) for i in range(5000)]\n\
                     def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n";
    let fuel_at = |n: u64| {
        let check = Check {
            candidate,
            entry_point: "total",
            kind: CallKind::Function,
            inputs: Inputs::Setup {
                code: "args = (list(range(n)),)",
                n,
            },
            seed: 0,
            call_budget: None,
            watch_inputs: false,
            forbid_compiling: false,
        };
        let outcome = sandbox()
            .check(&check, &Limits::default())
            .expect("the host runs the check");
        let want = fuelbench_sandbox::Value::Int((n * (n - 1) / 2).into());
        assert_eq!(outcome.ending, Ending::Returned(want), "{outcome:#?}");
        outcome
            .call_fuel
            .expect("a call that returned has its fuel")
    };
    let repeats: BTreeSet<u64> = (0..20).map(|_| fuel_at(1000)).collect();
    assert_eq!(repeats.len(), 1, "{repeats:?}");
    let small = fuel_at(1000);
    let large = fuel_at(10_000);
    // Linear work: ten times the input, about ten times the fuel; the
    // module's 5000 json.dumps at load are not in it.
    let ratio = large as f64 / small as f64;
    assert!((9.0..11.0).contains(&ratio), "{small} -> {large}: {ratio}");
}

/// A call's own budget is the call's alone: loading does not draw on it, and
/// the call gets exactly that much.
#[test]
fn a_call_budget_is_the_calls_alone() {
    use fuelbench_sandbox::{CallKind, Check, Ending, Inputs};
    // Loading costs far more than the call.
    let candidate = "import json\nPADDING = [json.dumps(i) for i in range(5000)]\n\
                     def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n";
    let check = |call_budget| Check {
        candidate,
        entry_point: "total",
        kind: CallKind::Function,
        inputs: Inputs::Setup {
            code: "args = (list(range(n)),)",
            n: 1000,
        },
        seed: 0,
        call_budget,
        watch_inputs: false,
        forbid_compiling: false,
    };
    let run = |call_budget| {
        sandbox()
            .check(&check(call_budget), &Limits::default())
            .expect("the host runs the check")
    };
    let free = run(None);
    let cost = free.call_fuel.expect("the call returned");
    assert!(free.fuel_used.expect("it loaded") > 10 * cost, "{free:#?}");
    let exact = run(Some(cost));
    assert_eq!(exact.ending, free.ending, "{exact:#?}");
    assert_eq!(exact.call_fuel, Some(cost));
    assert_eq!(exact.fuel_used, free.fuel_used);
    let short = run(Some(cost - cost / 10));
    assert!(
        matches!(
            short.ending,
            Ending::CutOff {
                status: Status::OutOfFuel,
                ..
            }
        ),
        "{short:#?}"
    );
}

/// A watched check reads the arguments as built and again after the call,
/// through the reactor's encoder: a call that sorts its list in place, or
/// puts an object of its own in it, shows.
#[test]
fn a_watched_check_sees_what_the_call_did_to_its_arguments() {
    use fuelbench_sandbox::{CallKind, Check, Inputs, Value};
    let watch = |candidate: &str| {
        let check = Check {
            candidate,
            entry_point: "f",
            kind: CallKind::Function,
            inputs: Inputs::Literal("([3, 1, 2], 'x')"),
            seed: 0,
            call_budget: None,
            watch_inputs: true,
            forbid_compiling: false,
        };
        sandbox()
            .check(&check, &Limits::default())
            .expect("the host runs the check")
            .inputs
            .expect("watched inputs after a call that returned")
    };
    let kept = watch("def f(xs, s):\n    return sorted(xs)\n");
    assert_eq!(kept.before, kept.after);
    let sorted = watch("def f(xs, s):\n    xs.sort()\n    return xs\n");
    assert_ne!(sorted.before, sorted.after);
    let list = |items: &[i64]| Value::List(items.iter().map(|&i| Value::Int(i.into())).collect());
    assert_eq!(
        sorted.after,
        Value::Tuple(vec![list(&[1, 2, 3]), Value::Str("x".into())])
    );
    let planted =
        watch("class Mine:\n    pass\n\ndef f(xs, s):\n    xs.append(Mine())\n    return 0\n");
    assert!(planted.after.unrepresentable().is_some(), "{planted:?}");
}

/// Forbidden names are read from the syntax tree, in every way a name can
/// be spelt there, and the source is never run. A name the source binds
/// itself is its own; a source that cannot be read fails closed.
#[test]
fn names_used_are_read_from_the_syntax_tree_without_running_it() {
    let used = |source: &str| {
        sandbox()
            .names_used(source, &["eval", "exec", "ast"], &Limits::default())
            .expect("the host reads the names")
    };
    let names = |source: &str| used(source).expect("the source reads");
    assert!(names("def f(x):\n    return x + 1\n").is_empty());
    assert_eq!(names("def f(x):\n    return eval(x)\n"), ["eval"]);
    assert_eq!(
        names("import ast\nimport builtins\nrun = builtins.exec\n"),
        ["ast", "exec"]
    );
    assert_eq!(names("from ast import literal_eval\n"), ["ast"]);
    assert_eq!(names("f = getattr(__builtins__, 'eval')\n"), ["eval"]);
    // Never run: a module that would loop forever is read in a moment.
    assert_eq!(names("while True:\n    pass\nexec('1')\n"), ["exec"]);
    // The candidate's own method called `eval` and variable called `ast`
    // are not the built-in and the module.
    assert!(
        names(
            "class Node:\n    def eval(self):\n        return 1\n\n\
             def f(text):\n    ast = Node()\n    return ast.eval()\n"
        )
        .is_empty()
    );
    // Fails closed: what does not parse, holds a NUL (which would end the
    // loader's C string early), or nests past the parser is not cleared.
    for unreadable in [
        "def f(:\n".to_owned(),
        "def f(x):\n    return x\n\0eval('1')\n".to_owned(),
        format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000)),
    ] {
        assert!(used(&unreadable).is_err(), "{:?}", &unreadable[..20]);
    }
    // Read as the loader reads it: an encoding cookie is honoured, so
    // `\x65val` is `eval` here as it is when the candidate loads.
    assert_eq!(
        names("# coding: unicode_escape\nx = \\x65val('1')\n"),
        ["eval"]
    );
}

/// The recursion limit is CPython's 1000, and the stacks hold it: deep
/// recursion ends as it does natively, in a RecursionError, never a trap,
/// also through C (a function under `functools.lru_cache`).
#[test]
fn recursion_reaches_cpythons_limit_as_natively() {
    let run = |source: &str| {
        sandbox()
            .run(&Program::new(source), &Limits::default())
            .expect("the host runs it")
    };
    let plain = run("import sys\n\
         def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\n\
         print(sys.getrecursionlimit(), f(990))\n");
    assert_eq!(plain.stdout_lossy(), "1000 990\n", "{plain:#?}");
    let cached = "import functools\n\
         @functools.lru_cache(None)\n\
         def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\n\
         print(f(DEPTH))\n";
    let within = run(&cached.replace("DEPTH", "490"));
    assert_eq!(within.stdout_lossy(), "490\n", "{within:#?}");
    let past = run(&cached.replace("DEPTH", "5000"));
    assert_eq!(past.exit_code, Some(1), "{past:#?}");
    assert!(
        String::from_utf8_lossy(&past.stderr).contains("RecursionError"),
        "{past:#?}"
    );
}

/// No fuel counter, nor any other host function, is importable in a guest.
#[test]
fn no_fuel_function_is_reachable_from_python() {
    let outcome = sandbox()
        .run(&Program::new("import _fuelbench\n"), &Limits::default())
        .expect("the host runs it");
    assert_eq!(outcome.exit_code, Some(1), "{outcome:#?}");
    assert!(
        outcome
            .stderr_lossy()
            .contains("No module named '_fuelbench'"),
        "{}",
        outcome.stderr_lossy()
    );
}
