//! SASL/OAUTHBEARER (RFC 7628) as Kafka serves it: the client's initial
//! response carries `auth=Bearer <JWT>`; the token is either an unsecured JWS
//! (`alg: none`, checked as Kafka's OAuthBearerUnsecuredValidatorCallbackHandler
//! checks it) or, when a JWKS file is configured, a JWS signed by one of its
//! keys. A bad token gets Kafka's `{"status":"invalid_token"}` challenge; the
//! client's `%x01` answer to it fails the exchange with that text.

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use ring::signature;
use serde_json::{Map, Value};

use super::{Outcome, SaslFailure};
use crate::security::settings::SaslSettings;

/// JWTs are base64url, with or without padding (Java's URL decoder takes both).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const INVALID_TOKEN: &str = "{\"status\":\"invalid_token\"}";

/// One public key of the JWKS file.
#[derive(Debug, Clone)]
enum Jwk {
    Rsa {
        kid: Option<String>,
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        kid: Option<String>,
        crv: String,
        point: Vec<u8>,
    },
}

/// The keys tokens must be signed with, and the claims they must carry.
#[derive(Debug, Clone, Default)]
pub struct Validator {
    keys: Option<Vec<Jwk>>,
    audience: Vec<String>,
    issuer: Option<String>,
    sub_claim: String,
    skew_ms: i64,
}

/// Why a JWKS file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("cannot read the JWKS file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the JWKS file {0} is not a JSON object with a \"keys\" array of RSA or EC keys")]
    Format(String),
}

fn b64_field(o: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    B64URL.decode(o.get(name)?.as_str()?).ok()
}

fn parse_jwks(text: &str) -> Option<Vec<Jwk>> {
    let v: Value = serde_json::from_str(text).ok()?;
    let mut keys = Vec::new();
    for k in v.get("keys")?.as_array()? {
        let o = k.as_object()?;
        let kid = o.get("kid").and_then(Value::as_str).map(str::to_string);
        match o.get("kty").and_then(Value::as_str)? {
            "RSA" => keys.push(Jwk::Rsa {
                kid,
                n: b64_field(o, "n")?,
                e: b64_field(o, "e")?,
            }),
            "EC" => {
                let mut point = vec![0x04];
                point.extend(b64_field(o, "x")?);
                point.extend(b64_field(o, "y")?);
                keys.push(Jwk::Ec {
                    kid,
                    crv: o.get("crv").and_then(Value::as_str)?.to_string(),
                    point,
                });
            }
            // Other key types (oct, OKP) are skipped, as a JWKS client would.
            _ => {}
        }
    }
    Some(keys)
}

impl Validator {
    pub fn from_settings(s: &SaslSettings) -> Result<Validator, JwksError> {
        let keys = match &s.oauth_jwks_file {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| JwksError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                Some(
                    parse_jwks(&text)
                        .ok_or_else(|| JwksError::Format(path.display().to_string()))?,
                )
            }
        };
        Ok(Validator {
            keys,
            audience: s.oauth_expected_audience.clone(),
            issuer: s.oauth_expected_issuer.clone(),
            sub_claim: if s.oauth_sub_claim.trim().is_empty() {
                "sub".into()
            } else {
                s.oauth_sub_claim.trim().to_string()
            },
            skew_ms: s.oauth_clock_skew_ms,
        })
    }

    /// The principal and expiry (ms) of a valid token, or why it is not.
    pub fn validate(&self, token: &str, now_ms: i64) -> Result<(String, i64), String> {
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err("the token is not a compact-serialized JWS".into());
        }
        let object = |s: &str| -> Result<Map<String, Value>, String> {
            let bytes = B64URL.decode(s).map_err(|_| "bad base64url".to_string())?;
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => Ok(m),
                _ => Err("not a JSON object".into()),
            }
        };
        let header = object(parts[0])?;
        let claims = object(parts[1])?;
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or("JWS header must have an Algorithm value")?;
        let skew = match &self.keys {
            None => {
                if alg != "none" {
                    return Err("Unsecured JWS must have 'none' for an algorithm".into());
                }
                if !parts[2].is_empty() {
                    return Err("Unsecured JWS must not contain a digital signature".into());
                }
                // Kafka's unsecured validator allows no skew unless configured.
                0
            }
            Some(keys) => {
                let kid = header.get("kid").and_then(Value::as_str);
                let signature = B64URL
                    .decode(parts[2])
                    .map_err(|_| "bad signature encoding")?;
                let signed = &token.as_bytes()[..parts[0].len() + 1 + parts[1].len()];
                if !keys.iter().any(|k| verify(k, alg, kid, signed, &signature)) {
                    return Err("no key of the JWKS verifies the token's signature".into());
                }
                self.skew_ms
            }
        };
        let principal = match claims.get(&self.sub_claim) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(_) => {
                return Err(format!(
                    "The {} claim had the incorrect type",
                    self.sub_claim
                ))
            }
            None => return Err(format!("Required claim missing: {}", self.sub_claim)),
        };
        let seconds = |name: &str| -> Result<Option<f64>, String> {
            match claims.get(name) {
                None => Ok(None),
                Some(Value::Number(n)) => Ok(n.as_f64()),
                Some(_) => Err(format!("The {name} claim had the incorrect type")),
            }
        };
        let exp = seconds("exp")?.ok_or("Required claim missing: exp")?;
        let exp_ms = (exp * 1000.0) as i64;
        if now_ms - skew >= exp_ms {
            return Err(format!("The token expired at {exp} seconds"));
        }
        if let Some(iat) = seconds("iat")? {
            if (iat * 1000.0) as i64 > now_ms + skew {
                return Err("The Issued At value is in the future".into());
            }
            if exp <= iat {
                return Err("The Expiration Time was not after the Issued At time".into());
            }
        }
        if let Some(nbf) = seconds("nbf")? {
            if (nbf * 1000.0) as i64 > now_ms + skew {
                return Err("The token is not valid yet (nbf)".into());
            }
        }
        if self.keys.is_some() {
            if !self.audience.is_empty() {
                let aud: Vec<&str> = match claims.get("aud") {
                    Some(Value::String(s)) => vec![s.as_str()],
                    Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                if !aud.iter().any(|a| self.audience.iter().any(|e| e == a)) {
                    return Err("the token's audience is not an expected one".into());
                }
            }
            if let Some(iss) = &self.issuer {
                if claims.get("iss").and_then(Value::as_str) != Some(iss.as_str()) {
                    return Err("the token's issuer is not the expected one".into());
                }
            }
        }
        Ok((principal, exp_ms))
    }
}

fn verify(key: &Jwk, alg: &str, kid: Option<&str>, signed: &[u8], sig: &[u8]) -> bool {
    let key_kid = match key {
        Jwk::Rsa { kid, .. } | Jwk::Ec { kid, .. } => kid.as_deref(),
    };
    if kid.is_some() && key_kid.is_some() && kid != key_kid {
        return false;
    }
    match key {
        Jwk::Rsa { n, e, .. } => {
            let params = match alg {
                "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                _ => return false,
            };
            signature::RsaPublicKeyComponents { n, e }
                .verify(params, signed, sig)
                .is_ok()
        }
        Jwk::Ec { crv, point, .. } => {
            let params = match (alg, crv.as_str()) {
                ("ES256", "P-256") => &signature::ECDSA_P256_SHA256_FIXED,
                ("ES384", "P-384") => &signature::ECDSA_P384_SHA384_FIXED,
                _ => return false,
            };
            signature::UnparsedPublicKey::new(params, point)
                .verify(signed, sig)
                .is_ok()
        }
    }
}

/// The parts of the client's initial response Kafka reads.
#[derive(Debug, PartialEq, Eq)]
pub struct InitialResponse {
    pub authzid: String,
    pub token: String,
}

/// Parses `n,[a=authzid],\x01auth=Bearer <token>\x01[k=v\x01]*\x01`.
pub fn parse_initial_response(msg: &[u8]) -> Result<InitialResponse, String> {
    let bad = || "Invalid OAUTHBEARER client first message".to_string();
    let text = std::str::from_utf8(msg).map_err(|_| bad())?;
    let (gs2, rest) = text.split_once('\u{1}').ok_or_else(bad)?;
    let mut g = gs2.splitn(3, ',');
    if !matches!(g.next(), Some("n") | Some("y")) {
        return Err(bad());
    }
    let authzid = match g.next() {
        Some("") => String::new(),
        Some(a) => a.strip_prefix("a=").ok_or_else(bad)?.to_string(),
        None => return Err(bad()),
    };
    if g.next() != Some("") {
        return Err(bad());
    }
    let body = rest.strip_suffix("\u{1}\u{1}").or_else(|| {
        // An empty list of pairs is just the final separator.
        (rest == "\u{1}").then_some("")
    });
    let body = body.ok_or_else(bad)?;
    let mut token = None;
    for kv in body.split('\u{1}').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').ok_or_else(bad)?;
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad());
        }
        if k == "auth" {
            let (scheme, t) = v.split_once(' ').ok_or_else(bad)?;
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err("Invalid scheme in OAuth token".into());
            }
            token = Some(t.trim_start().to_string());
        }
    }
    let token = token.filter(|t| !t.is_empty()).ok_or_else(bad)?;
    Ok(InitialResponse { authzid, token })
}

/// One OAUTHBEARER exchange.
#[derive(Debug, Default)]
pub struct OAuthBearerServer {
    /// Set after a bad token: the client's `%x01` then fails the exchange with it.
    error: Option<String>,
}

impl OAuthBearerServer {
    pub fn evaluate(
        &mut self,
        token: &[u8],
        validator: &Validator,
        now_ms: i64,
    ) -> Result<Outcome, SaslFailure> {
        if token == [1u8] {
            if let Some(e) = self.error.take() {
                return Err(SaslFailure::Auth(e));
            }
        }
        self.error = None;
        let initial = parse_initial_response(token).map_err(|_| SaslFailure::InvalidCredentials)?;
        match validator.validate(&initial.token, now_ms) {
            Ok((principal, expiry_ms)) => {
                if !initial.authzid.is_empty() && initial.authzid != principal {
                    return Err(SaslFailure::Auth(format!(
                        "Authentication failed: Client requested an authorization id ({}) that is different from the token's principal name ({principal})",
                        initial.authzid
                    )));
                }
                Ok(Outcome::Done {
                    response: Vec::new(),
                    principal,
                    credential_expiry_ms: Some(expiry_ms),
                })
            }
            Err(reason) => {
                tracing::debug!(reason, "OAUTHBEARER token rejected");
                self.error = Some(INVALID_TOKEN.to_string());
                Ok(Outcome::Challenge(INVALID_TOKEN.as_bytes().to_vec()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str, claims: &str, sig: &str) -> String {
        format!("{}.{}.{sig}", B64URL.encode(header), B64URL.encode(claims))
    }

    fn unsecured() -> Validator {
        Validator {
            sub_claim: "sub".into(),
            ..Validator::default()
        }
    }

    #[test]
    fn unsecured_tokens_as_kafka_checks_them() {
        let v = unsecured();
        let now = 1_700_000_000_000;
        let ok = jwt(
            r#"{"alg":"none"}"#,
            r#"{"sub":"alice","exp":1700000100,"iat":1699999999}"#,
            "",
        );
        assert_eq!(
            v.validate(&ok, now).unwrap(),
            ("alice".into(), 1_700_000_100_000)
        );
        for bad in [
            jwt(
                r#"{"alg":"none"}"#,
                r#"{"sub":"alice","exp":1699999999}"#,
                "",
            ),
            jwt(
                r#"{"alg":"HS256"}"#,
                r#"{"sub":"alice","exp":1700000100}"#,
                "",
            ),
            jwt(
                r#"{"alg":"none"}"#,
                r#"{"sub":"alice","exp":1700000100}"#,
                "c2ln",
            ),
            jwt(r#"{"alg":"none"}"#, r#"{"exp":1700000100}"#, ""),
            jwt(r#"{"alg":"none"}"#, r#"{"sub":"alice"}"#, ""),
            jwt(r#"{"alg":"none"}"#, r#"{"sub":7,"exp":1700000100}"#, ""),
            jwt(r#"[]"#, r#"{"sub":"alice","exp":1700000100}"#, ""),
            "a.b".into(),
            "!!.!!.".into(),
        ] {
            assert!(v.validate(&bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn initial_response_and_error_round() {
        let token = jwt(
            r#"{"alg":"none"}"#,
            r#"{"sub":"alice","exp":99999999999}"#,
            "",
        );
        let msg = format!("n,,\u{1}auth=Bearer {token}\u{1}\u{1}");
        assert_eq!(parse_initial_response(msg.as_bytes()).unwrap().token, token);
        let with_ext = format!("n,a=alice,\u{1}auth=Bearer {token}\u{1}traceId=1\u{1}\u{1}");
        assert_eq!(
            parse_initial_response(with_ext.as_bytes()).unwrap().authzid,
            "alice"
        );
        for bad in [
            "",
            "n,,",
            "n,,\u{1}\u{1}",
            "x,,\u{1}auth=Bearer t\u{1}\u{1}",
            "n,,\u{1}auth=Basic t\u{1}\u{1}",
            "n,,\u{1}auth=Bearer t\u{1}",
        ] {
            assert!(parse_initial_response(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let v = unsecured();
        let mut s = OAuthBearerServer::default();
        let expired = jwt(r#"{"alg":"none"}"#, r#"{"sub":"alice","exp":1}"#, "");
        let msg = format!("n,,\u{1}auth=Bearer {expired}\u{1}\u{1}");
        match s.evaluate(msg.as_bytes(), &v, 10_000).unwrap() {
            Outcome::Challenge(c) => assert_eq!(c, INVALID_TOKEN.as_bytes()),
            _ => panic!("challenge expected"),
        }
        match s.evaluate(&[1], &v, 10_000) {
            Err(SaslFailure::Auth(m)) => assert_eq!(m, INVALID_TOKEN),
            _ => panic!("failure expected"),
        }
    }

    #[test]
    fn signed_tokens_against_a_jwks() {
        use ring::rand::SystemRandom;
        use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let public = pair.public_key().as_ref();
        let jwks = format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"k1","x":"{}","y":"{}"}}]}}"#,
            B64URL.encode(&public[1..33]),
            B64URL.encode(&public[33..65])
        );
        let v = Validator {
            keys: Some(parse_jwks(&jwks).unwrap()),
            audience: vec!["kafka".into()],
            issuer: Some("https://issuer".into()),
            sub_claim: "sub".into(),
            skew_ms: 30_000,
        };
        let sign = |claims: &str| {
            let unsigned = format!(
                "{}.{}",
                B64URL.encode(r#"{"alg":"ES256","kid":"k1"}"#),
                B64URL.encode(claims)
            );
            let sig = pair.sign(&rng, unsigned.as_bytes()).unwrap();
            format!("{unsigned}.{}", B64URL.encode(sig.as_ref()))
        };
        let good =
            sign(r#"{"sub":"svc","exp":99999999999,"aud":["kafka"],"iss":"https://issuer"}"#);
        assert_eq!(v.validate(&good, 1_000).unwrap().0, "svc");
        let wrong_aud =
            sign(r#"{"sub":"svc","exp":99999999999,"aud":"other","iss":"https://issuer"}"#);
        assert!(v.validate(&wrong_aud, 1_000).is_err());
        let mut tampered = good.clone();
        tampered.replace_range(good.len() - 3.., "AAA");
        assert!(v.validate(&tampered, 1_000).is_err());
        let unsigned = jwt(
            r#"{"alg":"none"}"#,
            r#"{"sub":"svc","exp":99999999999}"#,
            "",
        );
        assert!(v.validate(&unsigned, 1_000).is_err());
    }
}
