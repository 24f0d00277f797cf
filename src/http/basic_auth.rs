//! Optional HTTP basic authentication for the console, its API and
//! `/metrics` (`http.auth.users=USER:PASSWORD,...`). Unset, nothing is
//! asked: the listener is loopback-only by default. The health checks
//! (`/healthz`, `/readyz`) stay open so orchestrators can probe them.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Paths that never ask for credentials.
const OPEN_PATHS: &[&str] = &["/healthz", "/readyz"];

/// The middleware: passes the request on when no users are configured, the
/// path is a health check, or the `Authorization: Basic` credentials match.
pub(crate) async fn require(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let users = &s.broker.config().http_auth_users;
    if users.is_empty() || OPEN_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_basic);
    let ok = presented.is_some_and(|(user, password)| {
        // Every entry is compared, so timing says nothing about which matched.
        users.iter().fold(false, |found, (u, p)| {
            found
                | (constant_time_eq(u.as_bytes(), user.as_bytes())
                    & constant_time_eq(p.as_bytes(), password.as_bytes()))
        })
    });
    if ok {
        return next.run(req).await;
    }
    let mut resp = (StatusCode::UNAUTHORIZED, "authentication required\n").into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"skiff\", charset=\"UTF-8\""),
    );
    resp
}

/// `Basic base64(user:password)` → (user, password).
fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(decode_base64(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Standard base64 (RFC 4648, padding optional); `None` on any other byte.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let body = s.trim_end_matches('=');
    if s.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.as_bytes().chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// Equal without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_basic_credentials() {
        // "admin:s3cr:et" — a password may contain a colon.
        assert_eq!(
            parse_basic("Basic YWRtaW46czNjcjpldA=="),
            Some(("admin".into(), "s3cr:et".into()))
        );
        assert_eq!(
            parse_basic("basic YWRtaW46czNjcjpldA"),
            Some(("admin".into(), "s3cr:et".into()))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!!"), None);
        assert_eq!(parse_basic("Basic YQ"), None, "no colon");
        assert_eq!(decode_base64("Zm9vYmFy").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(decode_base64("Zm9vYg==").as_deref(), Some(&b"foob"[..]));
        assert_eq!(decode_base64("Z"), None);
    }

    #[test]
    fn compares_whole_strings() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
