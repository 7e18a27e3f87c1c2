//! The interpreter this binary expects, read from `python-wasm/pins.toml`
//! (compiled in), and the in-guest runner that goes into its snapshot.

const PINS_TOML: &str = include_str!("../../../python-wasm/pins.toml");

/// The in-guest runner, baked into every snapshot this binary takes.
pub(crate) const RUNNER_PY: &str = include_str!("../../../python-wasm/runner.py");

/// The pinned facts about the interpreter build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    /// sha256 of the reactor module; also the name of its folder in the cache.
    pub python_wasm_sha256: String,
    /// sha256 over the installed standard library (see build.sh).
    pub stdlib_sha256: String,
    /// The CPython release the interpreter is built from, such as `3.11.2`.
    pub cpython_version: String,
    /// The optimisation flags CPython and the reactor are compiled with.
    pub cflags: String,
}

impl Pins {
    /// The pins compiled into this binary.
    pub fn compiled_in() -> Pins {
        Pins::parse(PINS_TOML).expect("python-wasm/pins.toml is checked by the pins_parse test")
    }

    fn parse(text: &str) -> Option<Pins> {
        let value = |key: &str| {
            text.lines().find_map(|line| {
                let (name, rest) = line.split_once('=')?;
                if name.trim() != key {
                    return None;
                }
                let rest = rest.trim();
                Some(rest.strip_prefix('"')?.strip_suffix('"')?.to_owned())
            })
        };
        Some(Pins {
            python_wasm_sha256: value("python_wasm_sha256")?,
            stdlib_sha256: value("stdlib_sha256")?,
            cpython_version: value("cpython_version")?,
            cflags: value("cflags")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse() {
        let pins = Pins::parse(PINS_TOML).expect("every key the binary needs is in pins.toml");
        assert_eq!(pins.python_wasm_sha256.len(), 64, "{pins:?}");
        assert!(
            pins.python_wasm_sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        );
        assert!(pins.cpython_version.starts_with("3.11."));
    }

    #[test]
    fn missing_key_is_none() {
        assert_eq!(Pins::parse("python_wasm_sha256 = \"ab\"\n"), None);
    }
}
