//! The store on real buckets: the S3 and Azure emulators `scripts/test.sh`
//! starts (moto and Azurite).

use fuelbench_problems::Problem;
use object_store::path::Path as ObjectPath;

use crate::support::scripted::{problems, scripted};
use crate::support::store::{conformance, second_writer_refused};

/// A bucket URL on an emulator `scripts/test.sh` started: `variable`
/// (`FUELBENCH_TEST_S3`, `FUELBENCH_TEST_AZURE`) names it, and the
/// credentials are in the environment as each cloud's own tools read them.
/// Each test writes under a prefix of its own.
fn emulated(variable: &str, what: &str) -> String {
    let base = std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} is not set: scripts/test.sh starts the emulators and sets it")
    });
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    format!("{base}/{what}-{}-{nanos}", std::process::id())
}

#[test]
fn buckets_on_the_s3_and_azure_emulators_keep_the_store_contract() {
    for variable in ["FUELBENCH_TEST_S3", "FUELBENCH_TEST_AZURE"] {
        let url = emulated(variable, "contract");
        let cache = tempfile::tempdir().expect("a temporary directory");
        let store = fuelbench_runner::store::open(&url, cache.path(), None)
            .unwrap_or_else(|error| panic!("{url}: {error}"));
        conformance(
            &*store,
            &|relative, bytes| {
                store.put_new(relative, bytes).expect("planted");
            },
            std::time::Duration::ZERO,
        );
    }
}

/// The conditional writes, on the emulators' own answers to them.
#[test]
fn a_second_writer_is_refused_by_the_s3_and_azure_emulators() {
    for variable in ["FUELBENCH_TEST_S3", "FUELBENCH_TEST_AZURE"] {
        let url = emulated(variable, "race");
        let caches = [tempfile::tempdir(), tempfile::tempdir()].map(|dir| dir.expect("a folder"));
        let stores = [0, 1].map(|index| {
            fuelbench_runner::store::open(&url, caches[index].path(), None)
                .unwrap_or_else(|error| panic!("{url}: {error}"))
        });
        second_writer_refused([&*stores[0], &*stores[1]]);
    }
}

/// What a user meets pointing `--results` at a bucket that is not there,
/// or at an endpoint nothing answers: a clear error naming it, nothing
/// written. (A wrong key: `tls.rs`, against Azurite, which checks keys.)
#[test]
fn a_missing_or_unreachable_bucket_is_named() {
    let cache = tempfile::tempdir().expect("a temporary directory");
    let url = emulated("FUELBENCH_TEST_S3", "missing");
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let missing = format!("{scheme}://no-such-bucket-{}/x", std::process::id());
    let store = fuelbench_runner::store::open(&missing, cache.path(), None).expect("opens lazily");
    let error = store.board().expect_err("no bucket").to_string();
    assert!(error.contains("no-such-bucket"), "{error}");

    let output = crate::support::fuelbench(&["leaderboard", &missing]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-bucket"), "{stderr}");

    let unreachable = std::process::Command::new(env!("CARGO_BIN_EXE_fuelbench"))
        .args(["leaderboard", &format!("{scheme}://{rest}")])
        .env("AWS_ENDPOINT", "http://127.0.0.1:9")
        .env("AWS_MAX_RETRIES", "0")
        .env("FUELBENCH_CACHE", crate::support::cache_dir())
        .output()
        .expect("fuelbench starts");
    assert_eq!(unreachable.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(
        stderr.contains("127.0.0.1:9") || stderr.contains("connect"),
        "{stderr}"
    );
}

/// The same run, pointed at the S3 emulator, shows on a board a second
/// process serves from the bucket, verified; the object edited by hand
/// then shows as differs.
#[test]
fn a_run_into_a_bucket_is_verified_by_a_service_in_another_process() {
    use crate::support::service::{http, spawn_serve};
    let url = emulated("FUELBENCH_TEST_S3", "run");
    let chosen: Vec<Problem> = problems()[..2].to_vec();
    let server = scripted(chosen);
    let output = crate::support::fuelbench(&[
        "run",
        "--endpoint",
        &server.base_url,
        "--model",
        "m",
        "--problems",
        "p01,p02",
        "--out",
        &url,
        "--seed",
        "5",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let name = "m__think-default__grammar-none";
    assert!(
        stdout.contains(&format!("results: {url}/{name}.json")),
        "{stdout}"
    );

    let (serve, addr) = spawn_serve(&[std::ffi::OsStr::new("--results"), url.as_ref()]);
    // Stopped by its PID however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _serve = Stop(serve);
    let verification = |wanted: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        loop {
            let (status, body) = http(
                &addr,
                "GET",
                &format!("/api/v1/results/{name}/verification"),
                "",
            );
            assert_eq!(status, 200, "{body}");
            let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            if json["verification"]["state"] == wanted {
                return json;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never {wanted}: {json}"
            );
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    };
    verification("verified");
    let (status, board) = http(&addr, "GET", "/api/v1/leaderboard", "");
    assert_eq!(status, 200, "{board}");
    assert!(board.contains("\"model\":\"m\""), "{board}");

    // A score raised by hand, written over the object.
    let objects = object_store::aws::AmazonS3Builder::from_env()
        .with_url(&url)
        .build()
        .expect("the emulator's bucket");
    let prefix = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, p)| p)
        .expect("a prefix");
    let location = ObjectPath::from(format!("{prefix}/{name}.json"));
    crate::support::runs::block_on(async {
        use object_store::ObjectStoreExt as _;
        let bytes = objects
            .get(&location)
            .await
            .expect("read")
            .bytes()
            .await
            .expect("bytes");
        let mut file: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        file["summary"]["overall_score"] = 0.99.into();
        objects
            .put(&location, serde_json::to_vec(&file).expect("JSON").into())
            .await
            .expect("written over");
    });
    let found = verification("differs");
    assert!(found.to_string().contains("overall_score"), "{found}");

    // Scored again through the bucket, the object holds what its answers
    // earn, and verifies again.
    let output = crate::support::fuelbench(&["rescore", "--results", &url, name]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("{url}/{name}.json: overall 0.990 -> ")),
        "{stdout}"
    );
    verification("verified");

    // A load run saved into the bucket is compared from it.
    let perf_server = crate::support::fake_server::FakeServer::start(|_| {
        crate::support::fake_server::Reply::answer("an answer")
    });
    let output = crate::support::fuelbench(&[
        "perf",
        "load",
        "--endpoint",
        &perf_server.base_url,
        "--model",
        "m",
        "--num-prompts",
        "2",
        "--input-len",
        "4",
        "--output-len",
        "4",
        "--results",
        &url,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("{url}/perf/")), "{stdout}");
    let output = crate::support::fuelbench(&["perf", "compare", "--results", &url, "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON rows");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
}
