//! SaslHandshake and SaslAuthenticate that reach the broker: on a SASL
//! listener the connection's authenticator answers them before
//! authentication, so here they come from a connection that needs none
//! (PLAINTEXT/SSL) or that already authenticated. Kafka's KafkaApis answers
//! both with ILLEGAL_SASL_STATE.

use kafka_protocol::messages::{
    SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::ResponseError;

use super::str_bytes;

pub fn handshake(_req: SaslHandshakeRequest) -> SaslHandshakeResponse {
    SaslHandshakeResponse::default().with_error_code(ResponseError::IllegalSaslState.code())
}

pub fn authenticate(_req: SaslAuthenticateRequest) -> SaslAuthenticateResponse {
    SaslAuthenticateResponse::default()
        .with_error_code(ResponseError::IllegalSaslState.code())
        .with_error_message(Some(str_bytes(
            "SaslAuthenticate request received after successful authentication",
        )))
}
