//! Model servers that answer from a script: every problem with its
//! reference, or with its planted wrong answer, for runs whose verdicts are
//! known in advance.

use std::time::Duration;

use fuelbench_llm::{ChatClient, ClientConfig};
use fuelbench_problems::{Failure, Problem};

use super::fake_server::{End, FakeServer, Reply, Request};
use super::repo_path;

pub(crate) fn problems() -> Vec<Problem> {
    fuelbench_problems::load_dir(&repo_path("problems")).expect("the problem set loads")
}

/// Timeouts short enough for tests: a stall is seen in a second.
pub(crate) fn client(base_url: &str) -> ChatClient {
    let mut config = ClientConfig::new(base_url);
    config.timeouts.first_byte = Duration::from_secs(2);
    config.timeouts.idle = Duration::from_secs(1);
    config.retry.backoff = Duration::from_millis(20);
    ChatClient::new(config)
}

/// A server that answers every problem with its reference, or with its
/// planted wrong answer for odd-numbered problems; `gap` between chunks.
pub(crate) fn scripted(problems: Vec<Problem>) -> FakeServer {
    scripted_with(problems, Duration::ZERO, |_, number| number % 2 == 1)
}

/// As [`scripted`], with a pause between chunks and `wrong(request,
/// problem number)` choosing which solves get the planted wrong answer.
pub(crate) fn scripted_with(
    problems: Vec<Problem>,
    gap: Duration,
    wrong: impl Fn(&Request, u32) -> bool + Send + Sync + 'static,
) -> FakeServer {
    FakeServer::start(scripted_handler(problems, gap, wrong))
}

/// What [`scripted_with`] answers, for a server that answers more.
pub(crate) fn scripted_handler(
    problems: Vec<Problem>,
    gap: Duration,
    wrong: impl Fn(&Request, u32) -> bool + Send + Sync + 'static,
) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |request| {
        if !request.is_chat() {
            return Reply::error(404, "no such route");
        }
        if request.is_probe() {
            return Reply::answer("OK");
        }
        let problem = request.problem(&problems).expect("a known prompt");
        let number: u32 = problem.id[1..3].parse().expect("ids are pNN_name");
        let planted = problem
            .wrong
            .iter()
            .find(|w| w.expect == Failure::WrongAnswer);
        let code = match planted {
            Some(planted) if !request.is_refactor() && wrong(request, number) => {
                planted.source.clone()
            }
            _ => problem.reference.clone(),
        };
        Reply::Stream {
            text: format!("Here it is.\n\n```python\n{code}\n```\n"),
            reasoning: false,
            gap,
            end: End::Done {
                finish_reason: "stop",
            },
        }
    }
}
