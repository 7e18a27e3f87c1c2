use super::*;
use crate::store::DirStore;
use crate::store::tests::run_state;

fn jobs_over(dir: &std::path::Path) -> Jobs {
    Jobs::new(
        Arc::new(DirStore::open(dir).expect("the store opens")),
        JobsConfig {
            endpoints: Vec::new(),
            api_key: None,
            locks_dir: dir.join("locks"),
            ca_certificates: Default::default(),
        },
    )
}

#[test]
fn a_run_whose_driver_is_gone_is_settled_even_when_its_pid_lives_on() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = DirStore::open(dir.path()).expect("the store opens");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    // PID 1 always exists; it is not the process that took these runs.
    let reused = RunStatus {
        owner: format!("{host}:1:987654321"),
        ..run_state("reused")
    };
    let elsewhere = RunStatus {
        owner: "another-host:1:5".into(),
        ..run_state("elsewhere")
    };
    store.save_run(&reused).expect("saved");
    store.save_run(&elsewhere).expect("saved");
    let runs = jobs_over(dir.path());
    assert_eq!(
        store.run("reused").map(|run| run.state),
        Some(RunState::Failed)
    );
    assert_eq!(
        store.run("elsewhere").map(|run| run.state),
        Some(RunState::Running),
        "another host's run is its owner's to settle"
    );

    // A run that dies while the server is up is settled when asked for.
    let gone = RunStatus {
        owner: format!("{host}:{}:1", std::process::id()),
        ..run_state("gone")
    };
    store.save_run(&gone).expect("saved");
    assert_eq!(
        runs.get("gone").map(|run| run.state).ok(),
        Some(RunState::Failed)
    );
    let error = runs.cancel("gone").expect_err("nothing runs");
    assert!(error.to_string().contains("failed"), "{error}");
}
