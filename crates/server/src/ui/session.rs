//! The forms' defence against cross-site requests: a token per browser
//! session that every form which starts, stops or runs something carries.
//!
//! A browser gets a random session id in an `HttpOnly`, `SameSite=Strict`
//! cookie on its first page. A form's token is SHA-256 of a secret this
//! process drew at start and that id, so the server stores nothing per
//! session, and a page on another site can neither read the token nor
//! make one: it knows neither the id nor the secret. A token from before a
//! restart no longer matches; the error page says to reload. Replicas on a
//! shared database share the secret (kept there), so a form one rendered
//! is accepted by any.
//!
//! This stands beside the origin checks of [`crate::routes::guard`], which
//! an old browser or a proxy that strips `Origin` would let through.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use maud::{Markup, html};
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState};

const COOKIE: &str = "fuelbench_session";

/// The secret tokens are made from: one per process, or one every
/// replica on a shared database shares.
#[derive(Debug)]
pub(crate) struct Sessions {
    secret: [u8; 32],
}

impl Sessions {
    pub(crate) fn new() -> std::io::Result<Sessions> {
        let mut secret = [0; 32];
        getrandom::fill(&mut secret).map_err(std::io::Error::other)?;
        Ok(Sessions { secret })
    }

    /// Sessions whose tokens every process holding `secret` accepts.
    pub(crate) fn with_secret(secret: [u8; 32]) -> Sessions {
        Sessions { secret }
    }

    fn token(&self, id: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.secret);
        hasher.update(id.as_bytes());
        hex(&hasher.finalize())
    }
}

/// This request's browser session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    token: String,
}

impl Session {
    /// The hidden field every state-changing form sends.
    pub(crate) fn field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.token); }
    }

    /// Whether a form's `csrf` field is this session's token.
    pub(crate) fn check(&self, given: &str) -> Result<(), ApiError> {
        if super::super::routes::constant_time_eq(given.as_bytes(), self.token.as_bytes()) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "stale_form",
            "this form is not from this browser's session with the server, or the server has \
             restarted since the page was loaded; reload the page and send it again",
        ))
    }
}

/// Finds the browser's session or starts one, for the UI's handlers; a new
/// one's cookie is set on the response.
pub(crate) async fn session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let existing = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && is_session_id(value))
        .map(|(_, value)| value.to_owned());
    let (id, fresh) = match existing {
        Some(id) => (id, false),
        None => match new_id() {
            Ok(id) => (id, true),
            Err(error) => {
                return axum::response::IntoResponse::into_response(ApiError::host(error));
            }
        },
    };
    let session = Session {
        token: state.inner.sessions.token(&id),
    };
    request.extensions_mut().insert(session);
    let mut response = next.run(request).await;
    if fresh
        && let Ok(cookie) =
            HeaderValue::from_str(&format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict"))
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn new_id() -> std::io::Result<String> {
    let mut bytes = [0; 16];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(hex(&bytes))
}

fn is_session_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_belongs_to_one_session_and_one_process() {
        let sessions = Sessions::new().expect("random bytes");
        let id = new_id().expect("random bytes");
        assert!(is_session_id(&id));
        let session = Session {
            token: sessions.token(&id),
        };
        assert!(session.check(&sessions.token(&id)).is_ok());
        let other = new_id().expect("random bytes");
        assert!(session.check(&sessions.token(&other)).is_err());
        let restarted = Sessions::new().expect("random bytes");
        assert!(session.check(&restarted.token(&id)).is_err());
        assert!(session.check("").is_err());
        for bad in ["", "x", "../../etc", &"g".repeat(32), &"a".repeat(33)] {
            assert!(!is_session_id(bad), "{bad:?}");
        }
    }
}
