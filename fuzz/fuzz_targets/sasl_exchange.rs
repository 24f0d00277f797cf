//! The SASL exchange of a SASL listener, fed arbitrary client frames: the
//! input is cut into size-prefixed frames as `server::Connection` cuts them,
//! handed to
//! `security::sasl::Authenticator` in order (ApiVersions, SaslHandshake v0/v1,
//! SaslAuthenticate, raw v0 tokens), and the hand-written SCRAM and
//! OAUTHBEARER parsers get the raw bytes too. Nothing may panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use skiff::protocol::ResponseBuf;
use skiff::security::sasl::oauthbearer::{parse_initial_response, Validator};
use skiff::security::sasl::scram::{parse_client_final, parse_client_first};
use skiff::security::sasl::{Authenticator, SaslContext, Step};
use skiff::security::scram_store::ScramStore;
use skiff::security::settings::SaslSettings;
use skiff_fuzz_common::frames;

#[path = "../src/common.rs"]
mod skiff_fuzz_common;

fn context() -> Arc<SaslContext> {
    static CTX: OnceLock<Arc<SaslContext>> = OnceLock::new();
    CTX.get_or_init(|| {
        let users = vec![("alice".to_string(), "secret".to_string())];
        Arc::new(SaslContext {
            store: Arc::new(ScramStore::open(None, &users).expect("in-memory store")),
            oauth: Validator::from_settings(&SaslSettings {
                oauth_sub_claim: "sub".into(),
                ..SaslSettings::default()
            })
            .expect("unsecured validator"),
            max_reauth_ms: 1000,
        })
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_client_first(data);
    let _ = parse_client_final(data);
    let _ = parse_initial_response(data);
    let mechanisms = Arc::new(
        ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>(),
    );
    let mut auth = Authenticator::new(mechanisms, context());
    let mut out = ResponseBuf::new();
    for frame in frames(data) {
        match auth.on_frame(bytes::Bytes::copy_from_slice(frame), &mut out, 0) {
            Step::Fail(_) => break,
            Step::Authenticated { principal, .. } => auth.begin_reauthentication(principal),
            Step::Forward | Step::Continue => {}
        }
    }
});
