//! SASL/PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`, checked as
//! Kafka's PlainSaslServer checks it, with its messages.

use super::{Outcome, SaslFailure};

/// Verifies a user's password; `None` when the user is unknown.
pub type PasswordCheck<'a> = dyn Fn(&str, &str) -> Option<bool> + 'a;

pub fn evaluate(token: &[u8], check: &PasswordCheck<'_>) -> Result<Outcome, SaslFailure> {
    let text = std::str::from_utf8(token).map_err(|_| {
        SaslFailure::Auth("Invalid SASL/PLAIN response: expected 3 tokens, got 0".into())
    })?;
    let parts: Vec<&str> = text.split('\u{0}').collect();
    if parts.len() != 3 {
        return Err(SaslFailure::Auth(format!(
            "Invalid SASL/PLAIN response: expected 3 tokens, got {}",
            parts.len()
        )));
    }
    let (authzid, username, password) = (parts[0], parts[1], parts[2]);
    if username.is_empty() {
        return Err(SaslFailure::Auth(
            "Authentication failed: username not specified".into(),
        ));
    }
    if password.is_empty() {
        return Err(SaslFailure::Auth(
            "Authentication failed: password not specified".into(),
        ));
    }
    if check(username, password) != Some(true) {
        return Err(SaslFailure::Auth(
            "Authentication failed: Invalid username or password".into(),
        ));
    }
    if !authzid.is_empty() && authzid != username {
        return Err(SaslFailure::Auth(
            "Authentication failed: Client requested an authorization id that is different from username".into(),
        ));
    }
    Ok(Outcome::Done {
        response: Vec::new(),
        principal: username.to_string(),
        credential_expiry_ms: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(u: &str, p: &str) -> Option<bool> {
        (u == "alice").then_some(p == "secret")
    }

    fn message(r: Result<Outcome, SaslFailure>) -> String {
        match r {
            Err(SaslFailure::Auth(m)) => m,
            Ok(Outcome::Done { principal, .. }) => format!("ok {principal}"),
            _ => "other".into(),
        }
    }

    #[test]
    fn kafka_messages() {
        assert_eq!(message(evaluate(b"\0alice\0secret", &check)), "ok alice");
        assert_eq!(
            message(evaluate(b"alice\0alice\0secret", &check)),
            "ok alice"
        );
        assert_eq!(
            message(evaluate(b"\0alice\0nope", &check)),
            "Authentication failed: Invalid username or password"
        );
        assert_eq!(
            message(evaluate(b"\0bob\0secret", &check)),
            "Authentication failed: Invalid username or password"
        );
        assert_eq!(
            message(evaluate(b"\0alice", &check)),
            "Invalid SASL/PLAIN response: expected 3 tokens, got 2"
        );
        assert_eq!(
            message(evaluate(b"\0\0x", &check)),
            "Authentication failed: username not specified"
        );
        assert!(message(evaluate(b"bob\0alice\0secret", &check)).contains("authorization id"));
    }
}
