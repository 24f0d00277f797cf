//! SASL authentication of one connection, as Kafka's SaslServerAuthenticator
//! runs it: ApiVersions (once) and SaslHandshake first, then SaslAuthenticate
//! rounds (handshake v1) or raw size-prefixed tokens (handshake v0, as old
//! clients send them) until the mechanism succeeds or fails. Nothing else is
//! processed before that: any other request closes the connection (after
//! the mechanism is chosen, with an ILLEGAL_SASL_STATE answer first). The
//! server feeds frames in; responses are appended to its output buffer.
//! Re-authentication (KIP-368) runs the same exchange again on an
//! authenticated connection.

pub mod oauthbearer;
pub mod plain;
pub mod scram;

use std::sync::Arc;

use bytes::{BufMut, Bytes};
use kafka_protocol::messages::{
    ApiKey, RequestKind, ResponseKind, SaslAuthenticateResponse, SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use crate::protocol::{self, Incoming, ResponseBuf, ResponseOut};
use crate::security::scram_store::ScramStore;

/// What a mechanism says to one client token.
#[derive(Debug)]
pub enum Outcome {
    /// Send this challenge and wait for the next token.
    Challenge(Vec<u8>),
    /// Authenticated as `principal`; send `response` last.
    Done {
        response: Vec<u8>,
        principal: String,
        /// When the credential itself expires (OAUTHBEARER's `exp`), epoch ms.
        credential_expiry_ms: Option<i64>,
    },
}

/// Why a mechanism refused a token.
#[derive(Debug)]
pub enum SaslFailure {
    /// Kafka's SaslAuthenticationException: its message goes to the client.
    Auth(String),
    /// Kafka's SaslException: the client only learns "invalid credentials",
    /// never whether the user exists.
    InvalidCredentials,
    /// A token out of turn: the connection is closed without an answer.
    IllegalState(String),
}

/// What every connection's authenticator shares.
#[derive(Debug)]
pub struct SaslContext {
    pub store: Arc<ScramStore>,
    pub oauth: oauthbearer::Validator,
    /// `connections.max.reauth.ms`; 0 = no limit.
    pub max_reauth_ms: i64,
}

/// What the server does after a frame.
#[derive(Debug)]
pub enum Step {
    /// An ApiVersions request: answer it as usual (it is allowed before authentication).
    Forward,
    /// A response was appended; read the next frame.
    Continue,
    /// The client is authenticated (a response may have been appended).
    Authenticated {
        principal: String,
        /// When the session expires (KIP-368), epoch ms.
        session_expiry_ms: Option<i64>,
    },
    /// Send what was appended, then close the connection for this reason.
    Fail(String),
}

enum Mech {
    Plain,
    // Boxed: one exchange per connection, and it keeps the other states small.
    Scram(Box<scram::ScramServer>),
    OAuth(oauthbearer::OAuthBearerServer),
}

enum State {
    /// ApiVersions or SaslHandshake.
    Initial,
    /// SaslHandshake only (ApiVersions was answered, or re-authentication).
    Handshake,
    Authenticate {
        mech: Mech,
        mechanism: String,
        /// Handshake v1: tokens come in SaslAuthenticate requests.
        headers: bool,
        /// Re-authentication asked for another mechanism: fail the next token.
        bad_reauth: Option<String>,
    },
    Complete,
}

/// The SASL state of one connection.
pub struct Authenticator {
    mechanisms: Arc<Vec<String>>,
    ctx: Arc<SaslContext>,
    state: State,
    /// (mechanism, principal) of the session being re-authenticated.
    previous: Option<(String, String)>,
    /// The mechanism of the last successful exchange.
    completed_mechanism: String,
}

fn str_bytes(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

fn api_key_of(frame: &[u8]) -> Option<(i16, i16)> {
    let b = frame.get(..4)?;
    Some((
        i16::from_be_bytes([b[0], b[1]]),
        i16::from_be_bytes([b[2], b[3]]),
    ))
}

fn api_label(raw: i16) -> String {
    match ApiKey::try_from(raw) {
        Ok(k) => format!("{k:?}"),
        Err(_) => format!("api key {raw}"),
    }
}

/// The ILLEGAL_SASL_STATE error response Kafka sends to a request other
/// than SaslAuthenticate once the mechanism is chosen, for the requests a
/// client can send there: a second SaslHandshake, ApiVersions, Metadata.
/// Any other request is closed without an answer (a difference from Kafka,
/// which builds every request's error response; no client relies on it).
fn illegal_state_response(body: &RequestKind) -> Option<ResponseKind> {
    use kafka_protocol::messages::{
        metadata_response::MetadataResponseTopic, ApiVersionsResponse, MetadataResponse,
    };
    let code = ResponseError::IllegalSaslState.code();
    Some(match body {
        RequestKind::SaslHandshake(_) => {
            ResponseKind::SaslHandshake(SaslHandshakeResponse::default().with_error_code(code))
        }
        RequestKind::ApiVersions(_) => {
            ResponseKind::ApiVersions(ApiVersionsResponse::default().with_error_code(code))
        }
        RequestKind::Metadata(m) => ResponseKind::Metadata(
            MetadataResponse::default().with_topics(
                m.topics
                    .iter()
                    .flatten()
                    .map(|t| {
                        MetadataResponseTopic::default()
                            .with_name(t.name.clone())
                            .with_topic_id(t.topic_id)
                            .with_error_code(code)
                    })
                    .collect(),
            ),
        ),
        _ => return None,
    })
}

impl Authenticator {
    pub fn new(mechanisms: Arc<Vec<String>>, ctx: Arc<SaslContext>) -> Authenticator {
        Authenticator {
            mechanisms,
            ctx,
            state: State::Initial,
            previous: None,
            completed_mechanism: String::new(),
        }
    }

    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Complete)
    }

    /// Starts KIP-368 re-authentication of an authenticated session: the
    /// client's SaslHandshake comes next.
    pub fn begin_reauthentication(&mut self, principal: String) {
        self.previous = Some((self.completed_mechanism.clone(), principal));
        self.state = State::Handshake;
    }

    fn what(&self) -> &'static str {
        if self.previous.is_some() {
            "re-authentication"
        } else {
            "authentication"
        }
    }

    /// Handles one frame received before authentication completed.
    pub fn on_frame(&mut self, frame: Bytes, out: &mut ResponseBuf, now_ms: i64) -> Step {
        match &self.state {
            State::Initial | State::Handshake => self.on_handshake_frame(frame, out),
            State::Authenticate { headers: true, .. } => {
                self.on_authenticate_request(frame, out, now_ms)
            }
            State::Authenticate { headers: false, .. } => self.on_raw_token(frame, out, now_ms),
            State::Complete => Step::Fail("SASL frame after authentication completed".into()),
        }
    }

    fn on_handshake_frame(&mut self, frame: Bytes, out: &mut ResponseBuf) -> Step {
        let Some((raw_key, version)) = api_key_of(&frame) else {
            return Step::Fail("SASL handshake: truncated request".into());
        };
        if raw_key == ApiKey::ApiVersions as i16 && matches!(self.state, State::Initial) {
            // A retry after UNSUPPORTED_VERSION (KIP-511) is still allowed.
            let max = protocol::served(ApiKey::ApiVersions).map_or(0, |r| r.max);
            if version <= max {
                self.state = State::Handshake;
            }
            return Step::Forward;
        }
        if raw_key != ApiKey::SaslHandshake as i16 {
            return Step::Fail(format!(
                "Unexpected Kafka request of type {} during SASL handshake.",
                api_label(raw_key)
            ));
        }
        let request = match protocol::decode_request(frame) {
            Ok(Incoming::Request(r)) => r,
            Ok(_) => return Step::Fail("SASL handshake: unexpected request".into()),
            Err(e) => return Step::Fail(format!("SASL handshake: {e}")),
        };
        let RequestKind::SaslHandshake(handshake) = request.body else {
            return Step::Fail("SASL handshake: unexpected request".into());
        };
        let mechanism = handshake.mechanism.to_string();
        let enabled = self.mechanisms.contains(&mechanism);
        let mut response = SaslHandshakeResponse::default().with_mechanisms(
            self.mechanisms
                .iter()
                .map(|m| str_bytes(m.clone()))
                .collect(),
        );
        if !enabled {
            response = response.with_error_code(ResponseError::UnsupportedSaslMechanism.code());
        }
        if let Err(e) = protocol::encode_response(
            out,
            ApiKey::SaslHandshake,
            request.version,
            request.correlation_id,
            &ResponseKind::SaslHandshake(response),
        ) {
            return Step::Fail(e.to_string());
        }
        if !enabled {
            return Step::Fail(format!("Unsupported SASL mechanism {mechanism}"));
        }
        let bad_reauth = match &self.previous {
            Some((prev, _)) if *prev != mechanism => Some(format!(
                "SASL mechanism '{mechanism}' requested by client is not supported for re-authentication of mechanism '{prev}'"
            )),
            _ => None,
        };
        let mech = match mechanism.as_str() {
            "PLAIN" => Mech::Plain,
            "OAUTHBEARER" => Mech::OAuth(oauthbearer::OAuthBearerServer::default()),
            other => match scram::ScramMechanism::from_name(other) {
                Some(m) => Mech::Scram(Box::new(scram::ScramServer::new(m))),
                // Only supported mechanisms pass config validation.
                None => return Step::Fail(format!("Unsupported SASL mechanism {other}")),
            },
        };
        self.state = State::Authenticate {
            mech,
            mechanism,
            headers: request.version >= 1,
            bad_reauth,
        };
        Step::Continue
    }

    /// Runs the mechanism on one token.
    fn evaluate(&mut self, token: &[u8], now_ms: i64) -> Result<(Outcome, String), SaslFailure> {
        let ctx = self.ctx.clone();
        let State::Authenticate {
            mech,
            mechanism,
            bad_reauth,
            ..
        } = &mut self.state
        else {
            return Err(SaslFailure::IllegalState("not authenticating".into()));
        };
        if let Some(m) = bad_reauth.take() {
            return Err(SaslFailure::Auth(m));
        }
        let outcome = match mech {
            Mech::Plain => plain::evaluate(token, &|u, p| ctx.store.check_password(u, p)),
            Mech::Scram(s) => s.evaluate(token, &|u, m| ctx.store.credential(u, m)),
            Mech::OAuth(o) => o.evaluate(token, &ctx.oauth, now_ms),
        }?;
        Ok((outcome, mechanism.clone()))
    }

    /// KIP-368 session lifetime, as Kafka's ReauthInfo computes it.
    fn session_lifetime_ms(&self, credential_expiry_ms: Option<i64>, now_ms: i64) -> Option<i64> {
        let max = self.ctx.max_reauth_ms;
        match (credential_expiry_ms, max > 0) {
            (None, false) => None,
            (None, true) => Some(max),
            (Some(exp), false) => Some((exp - now_ms).max(0)),
            (Some(exp), true) => Some((exp - now_ms).min(max).max(0)),
        }
    }

    /// Success of the whole exchange: checks re-authentication keeps the principal.
    fn finish(&mut self, principal: &str, mechanism: &str) -> Result<(), String> {
        if let Some((_, prev)) = &self.previous {
            if prev != principal {
                return Err(format!(
                    "Cannot change principals during re-authentication from User:{prev}: User:{principal}"
                ));
            }
        }
        self.previous = None;
        self.state = State::Complete;
        self.completed_mechanism = mechanism.to_string();
        tracing::debug!(principal, mechanism, "SASL authentication succeeded");
        Ok(())
    }

    fn failure_message(&self, failure: SaslFailure, mechanism: &str) -> Result<String, String> {
        match failure {
            SaslFailure::Auth(m) => Ok(m),
            SaslFailure::InvalidCredentials => Ok(format!(
                "Authentication failed during {} due to invalid credentials with SASL mechanism {mechanism}",
                self.what()
            )),
            SaslFailure::IllegalState(m) => Err(m),
        }
    }

    fn current_mechanism(&self) -> String {
        match &self.state {
            State::Authenticate { mechanism, .. } => mechanism.clone(),
            _ => String::new(),
        }
    }

    fn on_authenticate_request(
        &mut self,
        frame: Bytes,
        out: &mut ResponseBuf,
        now_ms: i64,
    ) -> Step {
        let Some((raw_key, _)) = api_key_of(&frame) else {
            return Step::Fail("SASL authenticate: truncated request".into());
        };
        if raw_key != ApiKey::SaslAuthenticate as i16 {
            let reason = format!(
                "Unexpected Kafka request of type {} during SASL authentication.",
                api_label(raw_key)
            );
            // Kafka parses this request and answers it with its own error
            // response (ILLEGAL_SASL_STATE) before closing; an unparsable one
            // is closed without an answer.
            if let Ok(Incoming::Request(r)) = protocol::decode_request(frame) {
                if let Some(body) = illegal_state_response(&r.body) {
                    let _ = protocol::encode_response(
                        out,
                        r.api_key,
                        r.version,
                        r.correlation_id,
                        &body,
                    );
                }
            }
            return Step::Fail(reason);
        }
        let request = match protocol::decode_request(frame) {
            Ok(Incoming::Request(r)) => r,
            Ok(_) => return Step::Fail("SASL authenticate: unexpected request".into()),
            Err(e) => return Step::Fail(format!("SASL authenticate: {e}")),
        };
        let RequestKind::SaslAuthenticate(auth) = request.body else {
            return Step::Fail("SASL authenticate: unexpected request".into());
        };
        let respond = |out: &mut ResponseBuf, r: SaslAuthenticateResponse| {
            protocol::encode_response(
                out,
                ApiKey::SaslAuthenticate,
                request.version,
                request.correlation_id,
                &ResponseKind::SaslAuthenticate(r),
            )
            .map_err(|e| e.to_string())
        };
        let mechanism = self.current_mechanism();
        match self.evaluate(&auth.auth_bytes, now_ms) {
            Ok((Outcome::Challenge(c), _)) => {
                match respond(
                    out,
                    SaslAuthenticateResponse::default().with_auth_bytes(Bytes::from(c)),
                ) {
                    Ok(()) => Step::Continue,
                    Err(e) => Step::Fail(e),
                }
            }
            Ok((
                Outcome::Done {
                    response,
                    principal,
                    credential_expiry_ms,
                },
                mechanism,
            )) => {
                let lifetime = self.session_lifetime_ms(credential_expiry_ms, now_ms);
                if let Err(m) = self.finish(&principal, &mechanism) {
                    let _ = respond(
                        out,
                        SaslAuthenticateResponse::default()
                            .with_error_code(ResponseError::SaslAuthenticationFailed.code())
                            .with_error_message(Some(str_bytes(m.clone()))),
                    );
                    return Step::Fail(m);
                }
                let r = SaslAuthenticateResponse::default()
                    .with_auth_bytes(Bytes::from(response))
                    .with_session_lifetime_ms(lifetime.unwrap_or(0));
                match respond(out, r) {
                    Ok(()) => Step::Authenticated {
                        principal,
                        session_expiry_ms: lifetime.map(|l| now_ms.saturating_add(l)),
                    },
                    Err(e) => Step::Fail(e),
                }
            }
            Err(failure) => match self.failure_message(failure, &mechanism) {
                Ok(message) => {
                    let _ = respond(
                        out,
                        SaslAuthenticateResponse::default()
                            .with_error_code(ResponseError::SaslAuthenticationFailed.code())
                            .with_error_message(Some(str_bytes(message.clone()))),
                    );
                    Step::Fail(message)
                }
                Err(illegal) => Step::Fail(illegal),
            },
        }
    }

    /// After a v0 handshake: the frame is the token itself, and so is the answer.
    fn on_raw_token(&mut self, frame: Bytes, out: &mut ResponseBuf, now_ms: i64) -> Step {
        let mechanism = self.current_mechanism();
        let put_token = |out: &mut ResponseBuf, token: &[u8]| {
            let buf = out.contiguous();
            buf.put_i32(token.len() as i32);
            buf.put_slice(token);
        };
        match self.evaluate(&frame, now_ms) {
            Ok((Outcome::Challenge(c), _)) => {
                put_token(out, &c);
                Step::Continue
            }
            Ok((
                Outcome::Done {
                    response,
                    principal,
                    credential_expiry_ms,
                },
                mechanism,
            )) => {
                let lifetime = self.session_lifetime_ms(credential_expiry_ms, now_ms);
                if let Err(m) = self.finish(&principal, &mechanism) {
                    return Step::Fail(m);
                }
                put_token(out, &response);
                Step::Authenticated {
                    principal,
                    session_expiry_ms: lifetime.map(|l| now_ms.saturating_add(l)),
                }
            }
            // Without Kafka headers there is no way to send an error: close.
            Err(failure) => match self.failure_message(failure, &mechanism) {
                Ok(m) | Err(m) => Step::Fail(m),
            },
        }
    }
}
