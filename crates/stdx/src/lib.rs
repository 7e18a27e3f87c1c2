//! What fuelbench adds to the standard library: rules that every crate
//! follows the same way, written once. Nothing here knows fuelbench's
//! domain; it depends on no fuelbench crate, and every one may use it.

mod durable;

use std::sync::{Mutex, MutexGuard, PoisonError};

pub use crate::durable::{create_durably, write_durably};

/// `mutex`'s guard, poisoned or not. Every lock in fuelbench guards state
/// that stays whole when a holder panics (counts changed by one line, maps
/// written by one insert, bytes appended), so a panic elsewhere never takes
/// the state down with it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What [`percent_encoded`] leaves as it is: RFC 3986's unreserved
/// characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `text` percent-encoded for a URL's path segment or query value: all but
/// the unreserved characters, so `HumanEval/0` stays one segment and a
/// model named `a&b` one query value.
pub fn percent_encoded(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

/// An error and its causes on one line, `outer: cause: root`: what a log
/// line, an event or an API message carries. Top-level messages are often
/// generic (reqwest's), and the cause says what happened.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        // Some errors say their cause in their own words already.
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_unreserved_characters_stay_as_they_are() {
        assert_eq!(super::percent_encoded("a b/c.gguf"), "a%20b%2Fc.gguf");
        assert_eq!(super::percent_encoded("HumanEval/0"), "HumanEval%2F0");
        assert_eq!(super::percent_encoded("A-z_0.9~"), "A-z_0.9~");
        assert_eq!(super::percent_encoded("é&="), "%C3%A9%26%3D");
    }

    #[test]
    fn an_error_chain_names_every_cause_once() {
        let root = std::io::Error::other("disk full");
        let outer = std::io::Error::other(Wrapped(root));
        assert_eq!(super::error_chain(&outer), "wrapped: disk full");
        // One that says its cause itself (object_store's do) says it once.
        let saying = std::io::Error::other(Saying(std::io::Error::other("disk full")));
        assert_eq!(super::error_chain(&saying), "could not write: disk full");
    }

    #[derive(Debug)]
    struct Saying(std::io::Error);

    impl std::fmt::Display for Saying {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "could not write: {}", self.0)
        }
    }

    impl std::error::Error for Saying {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
