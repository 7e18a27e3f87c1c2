//! The web UI in real Chromium, over WebDriver (chromedriver), against a
//! `fuelbench serve` whose runs target a scripted model server. Every page
//! visited is saved as a PNG in `$CARGO_TARGET_TMPDIR/screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_problems::load_dir;
use fuelbench_server::{AppState, Config, JobsConfig};
use serde_json::{Value, json};

use crate::support::fake_server::{FakeServer, Reply};
use crate::support::scripted::{problems, scripted_handler};
use crate::support::{free_port, repo_path, sandbox};

/// chromedriver, started for one test and ended by its PID.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let binary = crate::support::external::chromedriver();
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn browser(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"] }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Ours: end it by its PID.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

async fn shoot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("the PNG is written");
}

/// Waits until `check` holds, polling; fails with `what` after 60 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(60), "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(browser: &Client, css: &str) -> String {
    match browser.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn count(browser: &Client, css: &str) -> usize {
    browser
        .find_all(Locator::Css(css))
        .await
        .map_or(0, |found| found.len())
}

/// Starts a run from `/runs/new`: `model`, the first three problems.
async fn start_run(browser: &Client, base: &str, model: &str, think: &str) {
    // The form asks the endpoint for its models with a 5 s limit; on a
    // machine busy with other tests that can pass, and the page says so: a
    // reload asks again, as a person would.
    let offered = format!("input[name=model][value='{model}']");
    eventually("the model is offered", || async {
        browser
            .goto(&format!("{base}/runs/new"))
            .await
            .expect("the form");
        count(browser, &offered).await == 1
    })
    .await;
    browser
        .find(Locator::Css(&offered))
        .await
        .expect("the model is offered")
        .click()
        .await
        .expect("checked");
    if think != "default" {
        for value in ["default", think] {
            browser
                .find(Locator::Css(&format!("input[name=think][value='{value}']")))
                .await
                .expect("a thinking mode")
                .click()
                .await
                .expect("toggled");
        }
    }
    let boxes = browser
        .find_all(Locator::Css("input[name=problem]"))
        .await
        .expect("problems");
    for checkbox in boxes.iter().skip(3) {
        checkbox.click().await.expect("unchecked");
    }
    browser
        .find(Locator::Css("input[name=refactor]"))
        .await
        .expect("the refactor box")
        .click()
        .await
        .expect("unchecked");
    browser
        .find(Locator::Css("form.run button[type=submit]"))
        .await
        .expect("the start button")
        .click()
        .await
        .expect("submitted");
    eventually("the run's page opens", || async {
        browser
            .current_url()
            .await
            .is_ok_and(|url| url.path().starts_with("/runs/2"))
    })
    .await;
}

async fn state_of(browser: &Client) -> String {
    text(browser, "#state").await
}

#[test]
fn the_web_ui_in_a_real_browser() {
    let chosen = problems()[..3].to_vec();
    // Each answer streams in 8 chunks 60 ms apart: a run can be caught
    // mid-flight.
    let handler = scripted_handler(chosen.clone(), Duration::from_millis(60), |_, n| n % 2 == 1);
    let model_server = FakeServer::start(move |request| {
        if request.method == "GET" && request.path == "/v1/models" {
            return Reply::Json(
                200,
                json!({ "data": [{ "id": "fake-a" }, { "id": "fake-b" }] }),
            );
        }
        handler(request)
    });
    let store = tempfile::tempdir().expect("a store");
    let config = Config {
        jobs: JobsConfig {
            endpoints: vec![model_server.base_url.clone()],
            api_key: None,
            locks_dir: store.path().join("locks"),
            ca_certificates: Default::default(),
        },
        ..Config::default()
    };
    let problems_all = load_dir(&repo_path("problems")).expect("the problem set");
    let evaluator = Evaluator::new(sandbox().clone(), EvalConfig::default());
    let results =
        fuelbench_runner::DirStore::open(&store.path().join("results")).expect("the store opens");
    let state = AppState::new(
        evaluator,
        problems_all,
        Vec::new(),
        std::sync::Arc::new(results),
        config,
    )
    .expect("the service starts");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let driver = Driver::start();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("bound"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(fuelbench_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        let browser = driver.browser().await;

        // An empty store says what to do.
        browser.goto(&format!("{base}/")).await.expect("the leaderboard");
        assert!(text(&browser, "p.empty").await.contains("No results yet"));

        // A run started from the form, watched to its end.
        start_run(&browser, &base, "fake-a", "default").await;
        eventually("the run finishes", || async { state_of(&browser).await == "finished" }).await;
        assert_eq!(count(&browser, "#outcomes tbody tr").await, 3);
        assert!(text(&browser, "#progress-text").await.starts_with("3 of 3"));
        shoot(&browser, "run-finished").await;

        // A second run, cancelled mid-flight from another tab's view, then
        // resumed to its end.
        start_run(&browser, &base, "fake-b", "off").await;
        let watching = browser.current_url().await.expect("a url").to_string();
        eventually("a problem is in flight", || async {
            text(&browser, "#now").await.contains("asking")
        })
        .await;
        browser
            .find(Locator::Css("#cancel"))
            .await
            .expect("a cancel button")
            .click()
            .await
            .expect("cancelled");
        eventually("the run is cancelled", || async { state_of(&browser).await == "cancelled" }).await;
        shoot(&browser, "run-cancelled").await;
        browser.goto(&watching).await.expect("reloaded");
        assert_eq!(state_of(&browser).await, "cancelled", "a reload shows the state at once");
        browser
            .find(Locator::Css("#resume"))
            .await
            .expect("a resume button")
            .click()
            .await
            .expect("resumed");
        eventually("the resumed run finishes", || async { state_of(&browser).await == "finished" }).await;
        assert!(text(&browser, "#progress-text").await.starts_with("3 of 3"));

        // The leaderboard: two rows; sorted by a column from its header.
        browser.goto(&format!("{base}/")).await.expect("the leaderboard");
        assert_eq!(count(&browser, "table.board tbody tr").await, 2);
        shoot(&browser, "leaderboard").await;
        browser
            .find(Locator::LinkText("Model"))
            .await
            .expect("the model header")
            .click()
            .await
            .expect("sorted");
        let url = browser.current_url().await.expect("a url");
        assert!(url.query().is_some_and(|q| q.contains("sort=model")), "{url}");
        let first = text(&browser, "table.board tbody tr th a").await;
        assert_eq!(first, "fake-b", "descending by name");
        browser.set_window_size(390, 844).await.expect("phone width");
        shoot(&browser, "leaderboard-phone").await;
        browser.set_window_size(1280, 900).await.expect("desktop width");

        // Follow a row to its problems, and a problem to its plot.
        browser
            .find(Locator::LinkText("fake-a"))
            .await
            .expect("the row's link")
            .click()
            .await
            .expect("followed");
        assert_eq!(count(&browser, "table.grid tbody tr").await, 3);
        shoot(&browser, "model").await;
        let passing = chosen[1].id.clone();
        browser
            .find(Locator::LinkText(&passing))
            .await
            .expect("the problem's link")
            .click()
            .await
            .expect("followed");
        let points = browser
            .find_all(Locator::Css("svg.fuel-plot circle.point[data-n]"))
            .await
            .expect("points");
        assert!(points.len() >= 3, "{} points", points.len());
        let n: u64 = points[0]
            .attr("data-n")
            .await
            .expect("an attribute")
            .and_then(|n| n.parse().ok())
            .expect("a size");
        assert!(chosen[1].complexity.sizes.contains(&n));
        assert_eq!(count(&browser, "svg.fuel-plot path.guide").await, 3);
        shoot(&browser, "problem").await;

        // Compare the two runs.
        browser.goto(&format!("{base}/compare")).await.expect("compare");
        let names: Vec<String> = {
            let mut names = Vec::new();
            for option in browser
                .find_all(Locator::Css("select[name=a] option"))
                .await
                .expect("options")
            {
                names.push(option.attr("value").await.expect("a value").unwrap_or_default());
            }
            names
        };
        assert_eq!(names.len(), 2, "{names:?}");
        browser
            .goto(&format!("{base}/compare?a={}&b={}", names[0], names[1]))
            .await
            .expect("compared");
        assert!(count(&browser, "table.agreement").await == 1);
        shoot(&browser, "compare").await;
        browser
            .find(Locator::LinkText(&passing))
            .await
            .expect("a problem link")
            .click()
            .await
            .expect("followed");
        assert_eq!(count(&browser, ".columns .column").await, 2);

        // A reply carrying a script shows it as text, and it never runs.
        let name = names[0].clone();
        let path = store.path().join("results").join(format!("{name}.json"));
        let mut file: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("the file")).expect("JSON");
        file["problems"][0]["solve"]["content"] =
            json!("<script>document.title = 'pwned'</script><img src=x onerror=\"document.title='pwned'\">");
        std::fs::write(&path, file.to_string()).expect("written");
        let id = file["problems"][0]["id"].as_str().expect("an id").to_owned();
        browser
            .goto(&format!("{base}/results/{name}/problems/{id}"))
            .await
            .expect("the page");
        browser
            .find(Locator::Css("details summary"))
            .await
            .expect("the reply's fold");
        let title = browser
            .execute("return document.title", Vec::new())
            .await
            .expect("the title");
        assert_ne!(title, json!("pwned"));
        let source = browser.source().await.expect("the source");
        assert!(source.contains("&lt;script&gt;document.title"), "escaped");
        assert_eq!(count(&browser, "pre.reply script, pre.reply img").await, 0);

        // The playground judges pasted code and shows the same report.
        browser.goto(&format!("{base}/evaluate")).await.expect("the playground");
        shoot(&browser, "evaluate").await;
        browser
            .find(Locator::Css("select[name=problem]"))
            .await
            .expect("a problem select")
            .select_by_value(&chosen[0].id)
            .await
            .expect("chosen");
        browser
            .find(Locator::Css("textarea[name=text]"))
            .await
            .expect("a textarea")
            .send_keys(&chosen[0].reference)
            .await
            .expect("typed");
        browser
            .find(Locator::Css("form.playground button[type=submit]"))
            .await
            .expect("a button")
            .click()
            .await
            .expect("submitted");
        eventually("the report appears", || async {
            count(&browser, "section.result table.cases").await == 1
        })
        .await;
        assert!(text(&browser, "section.result").await.contains("tests pass"));
        shoot(&browser, "evaluate-report").await;

        browser.close().await.expect("the session ends");
        let _ = stop.send(());
        server.await.expect("no panic").expect("served");
    });
    eprintln!("screenshots: {}", screenshots().display());
}
