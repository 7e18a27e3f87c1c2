//! Finding the solution in a model's reply.
//!
//! Replies wrap code in prose, in several fenced blocks (the solution, a usage
//! example, a shell command), and sometimes in reasoning (`<think>...</think>`)
//! that holds drafts. The rules, in order:
//!
//! 1. Reasoning is dropped: `<think>` sections, and everything before a lone
//!    `</think>` (templates that open the section in the prompt). A reply that
//!    opens `<think>` and never closes it was cut off while thinking: no code.
//! 2. Fenced blocks labelled `python`, `py`, `python3` or nothing are
//!    candidates; blocks in other languages are not. An unterminated fence
//!    (a reply cut at the token limit) runs to the end.
//! 3. Of the candidates, the last one that defines the entry point wins (a
//!    model that revises itself ends with its final version); else the last
//!    one that defines any function or class; else none.
//! 4. A reply without fences counts as code only when it reads as a Python
//!    module from its first line (`def`, `class`, `import`, `from`, `@`).
//!    Prose is no code.
//!
//! A suite's task asks to complete a function whose signature the prompt
//! gives, so there ([`extract_completion`]) a block that only continues the
//! function, every line indented, is code too when nothing else is.

/// What was found in a reply.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Extraction {
    /// The code to evaluate; `None` means the reply holds no code.
    pub code: Option<String>,
    /// Reasoning text was present and skipped.
    pub skipped_reasoning: bool,
    /// Fenced Python blocks seen, the chosen one among them.
    pub python_blocks: usize,
}

const PYTHON_LABELS: [&str; 4] = ["", "python", "py", "python3"];

/// The code in `reply` whose entry point is `entry_point`, found by the rules
/// above; a reply without any is an extraction whose `code` is `None`.
pub fn extract(reply: &str, entry_point: &str) -> Extraction {
    let (answer, skipped_reasoning) = match strip_reasoning(reply) {
        Some(stripped) => stripped,
        None => {
            return Extraction {
                code: None,
                skipped_reasoning: true,
                python_blocks: 0,
            };
        }
    };
    let blocks = python_blocks(&answer);
    let python_blocks = blocks.len();
    let defines = |block: &&String, name: &str| {
        block.lines().any(|line| {
            let line = line.trim_start();
            ["def ", "class ", "async def "].iter().any(|keyword| {
                line.strip_prefix(keyword).is_some_and(|rest| {
                    rest.starts_with(name) && rest[name.len()..].starts_with(['(', ':', ' '])
                })
            })
        })
    };
    let chosen = blocks
        .iter()
        .rev()
        .find(|block| defines(block, entry_point))
        .or_else(|| blocks.iter().rev().find(|block| defines_anything(block)))
        .cloned();
    let code = match chosen {
        Some(code) => Some(code),
        None if python_blocks == 0 && reads_as_module(&answer) => {
            Some(answer.trim().to_owned() + "\n")
        }
        None => None,
    };
    Extraction {
        code,
        skipped_reasoning,
        python_blocks,
    }
}

/// The code in `reply` that completes a suite task's function: what
/// [`extract`] finds, else the last fenced block whose every line is indented,
/// the body of the function the prompt opens.
pub fn extract_completion(reply: &str, entry_point: &str) -> Extraction {
    let extraction = extract(reply, entry_point);
    if extraction.code.is_some() {
        return extraction;
    }
    let body = strip_reasoning(reply).and_then(|(answer, _)| {
        python_blocks(&answer).into_iter().rev().find(|block| {
            block
                .lines()
                .filter(|line| !line.trim().is_empty())
                .all(|line| line.starts_with([' ', '\t']))
        })
    });
    Extraction {
        code: body,
        ..extraction
    }
}

/// The reply without reasoning, and whether there was any; `None` when the
/// reply never left its reasoning.
///
/// One pass over the reply: a reply of many short blocks costs no more than
/// one long one.
fn strip_reasoning(reply: &str) -> Option<(String, bool)> {
    const OPEN: &str = "<think>";
    const CLOSE: &str = "</think>";
    let mut rest = reply;
    let mut skipped = false;
    // A lone closing tag: the opening one was in the prompt's template.
    if let Some(close) = rest.find(CLOSE)
        && !rest[..close].contains(OPEN)
    {
        rest = &rest[close + CLOSE.len()..];
        skipped = true;
    }
    let mut text = String::with_capacity(rest.len());
    while let Some(open) = rest.find(OPEN) {
        let close = rest[open..].find(CLOSE)?;
        text.push_str(&rest[..open]);
        rest = &rest[open + close + CLOSE.len()..];
        skipped = true;
    }
    text.push_str(rest);
    Some((text, skipped))
}

fn python_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let Some(fence_rest) = trimmed.strip_prefix("```") else {
            continue;
        };
        let label = fence_rest.trim().to_ascii_lowercase();
        let mut body = String::new();
        for inner in lines.by_ref() {
            if inner.trim_start().starts_with("```") {
                break;
            }
            body.push_str(inner);
            body.push('\n');
        }
        if PYTHON_LABELS.contains(&label.as_str()) && !body.trim().is_empty() {
            blocks.push(body);
        }
    }
    blocks
}

fn defines_anything(code: &str) -> bool {
    code.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("def ") || line.starts_with("class ") || line.starts_with("async def ")
    })
}

fn reads_as_module(text: &str) -> bool {
    let Some(first) = text
        .lines()
        .map(str::trim_start)
        .find(|line| !line.is_empty())
    else {
        return false;
    };
    ["def ", "class ", "import ", "from ", "@", "async def "]
        .iter()
        .any(|start| first.starts_with(start))
        && defines_anything(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extracts from `reply` for entry point `solve` and checks the code found.
    fn check(reply: &str, expected: Option<&str>) -> Extraction {
        let extraction = extract(reply, "solve");
        assert_eq!(extraction.code.as_deref(), expected, "{reply}");
        extraction
    }

    #[test]
    fn one_python_block() {
        check(
            "Here:\n```python\ndef solve(x):\n    return x\n```\nDone.",
            Some("def solve(x):\n    return x\n"),
        );
    }

    #[test]
    fn unlabelled_and_short_labels_count() {
        check("```\ndef solve(): pass\n```", Some("def solve(): pass\n"));
        check("```py\ndef solve(): pass\n```", Some("def solve(): pass\n"));
        check(
            "```Python3\ndef solve(): pass\n```",
            Some("def solve(): pass\n"),
        );
    }

    #[test]
    fn the_block_defining_the_entry_point_beats_a_usage_example() {
        let reply = "```python\ndef solve(x):\n    return 2 * x\n```\nUsage:\n```python\nprint(solve(3))\n```";
        check(reply, Some("def solve(x):\n    return 2 * x\n"));
    }

    #[test]
    fn the_last_revision_wins() {
        let reply = "First try:\n```python\ndef solve(x):\n    return x\n```\nBetter:\n```python\ndef solve(x):\n    return -x\n```";
        check(reply, Some("def solve(x):\n    return -x\n"));
    }

    #[test]
    fn other_languages_are_not_code() {
        check(
            "```bash\npip install nothing\n```\n```json\n{\"a\": 1}\n```",
            None,
        );
    }

    #[test]
    fn reasoning_is_skipped() {
        let reply = "<think>\nMaybe:\n```python\ndef solve(): return 1\n```\n</think>\n```python\ndef solve(): return 2\n```";
        let extraction = check(reply, Some("def solve(): return 2\n"));
        assert!(extraction.skipped_reasoning);
        assert_eq!(extraction.python_blocks, 1);
    }

    #[test]
    fn a_lone_closing_tag_ends_the_reasoning() {
        let extraction = check(
            "drafting...\n```python\ndef solve(): return 1\n```\n</think>\nNo code, sorry.",
            None,
        );
        assert!(extraction.skipped_reasoning);
    }

    #[test]
    fn reasoning_that_never_ends_is_no_code() {
        check(
            "<think>\nLet me think about ```python\ndef solve(): pass\n```",
            None,
        );
    }

    #[test]
    fn an_unterminated_fence_runs_to_the_end() {
        check(
            "```python\ndef solve(x):\n    return x",
            Some("def solve(x):\n    return x\n"),
        );
    }

    #[test]
    fn a_bare_module_is_code_and_prose_is_not() {
        check(
            "import math\n\ndef solve(x):\n    return math.sqrt(x)\n",
            Some("import math\n\ndef solve(x):\n    return math.sqrt(x)\n"),
        );
        check(
            "I would use a heap and define solve(x) to pop the smallest.",
            None,
        );
        check("", None);
    }

    #[test]
    fn a_block_without_definitions_is_not_a_solution() {
        check("```python\nprint('hello')\n```", None);
    }

    #[test]
    fn a_task_takes_a_function_body_when_no_block_defines_anything() {
        let body = "Here:\n```python\n    return sorted(x)\n```\n";
        assert_eq!(extract(body, "f").code, None);
        assert_eq!(
            extract_completion(body, "f").code.as_deref(),
            Some("    return sorted(x)\n")
        );
        let whole = "```python\ndef f(x):\n    return x\n```\n```python\n    print(1)\n```\n";
        assert_eq!(
            extract_completion(whole, "f").code.as_deref(),
            Some("def f(x):\n    return x\n")
        );
        let usage = "```python\nprint(f(1))\n```\n";
        assert_eq!(extract_completion(usage, "f").code, None);
        assert_eq!(
            extract_completion("<think>\n```\n    x\n```", "f").code,
            None
        );
    }

    #[test]
    fn the_entry_point_must_match_as_a_whole_name() {
        let reply =
            "```python\ndef solve(x): return 1\n```\n```python\ndef solve_all(x): return 2\n```";
        check(reply, Some("def solve(x): return 1\n"));
    }
}
