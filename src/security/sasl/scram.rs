//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), server side: the
//! credential math (salted password → StoredKey/ServerKey) and the two-round
//! exchange. Client messages are parsed by hand and never trusted: every
//! malformed input is an error, nothing panics.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::{digest, hmac, pbkdf2, rand::SecureRandom};

use super::{Outcome, SaslFailure};

/// The lowest iteration count Kafka accepts for both mechanisms.
pub const MIN_ITERATIONS: i32 = 4096;
/// The highest iteration count Kafka accepts (ScramControlManager).
pub const MAX_ITERATIONS: i32 = 16384;

/// A SCRAM mechanism; `type_code` is Kafka's wire number for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScramMechanism {
    Sha256,
    Sha512,
}

impl ScramMechanism {
    pub const ALL: [ScramMechanism; 2] = [ScramMechanism::Sha256, ScramMechanism::Sha512];

    pub fn name(self) -> &'static str {
        match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
        }
    }

    pub fn from_name(name: &str) -> Option<ScramMechanism> {
        ScramMechanism::ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn type_code(self) -> i8 {
        match self {
            ScramMechanism::Sha256 => 1,
            ScramMechanism::Sha512 => 2,
        }
    }

    pub fn from_type(code: i8) -> Option<ScramMechanism> {
        ScramMechanism::ALL
            .into_iter()
            .find(|m| m.type_code() == code)
    }

    fn hmac_alg(self) -> hmac::Algorithm {
        match self {
            ScramMechanism::Sha256 => hmac::HMAC_SHA256,
            ScramMechanism::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            ScramMechanism::Sha256 => &digest::SHA256,
            ScramMechanism::Sha512 => &digest::SHA512,
        }
    }

    fn pbkdf2_alg(self) -> pbkdf2::Algorithm {
        match self {
            ScramMechanism::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramMechanism::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    fn hash_len(self) -> usize {
        self.digest_alg().output_len()
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(self.hmac_alg(), key), data)
            .as_ref()
            .to_vec()
    }

    /// Hi(password, salt, i) of RFC 5802: PBKDF2 with this hash.
    pub fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut out = vec![0u8; self.hash_len()];
        let iterations =
            std::num::NonZeroU32::new(iterations.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        pbkdf2::derive(self.pbkdf2_alg(), iterations, salt, password, &mut out);
        out
    }
}

/// Compares secrets without an early exit, so timing tells nothing about
/// how much of a key matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What the broker keeps of a SCRAM password: never the password itself.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredential {
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
    pub iterations: i32,
}

impl fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As Kafka's ScramCredentialValue: nothing that helps an attacker reaches a log.
        f.write_str("ScramCredential([hidden])")
    }
}

impl ScramCredential {
    /// From the salted password a client computed (AlterUserScramCredentials).
    pub fn from_salted_password(
        mechanism: ScramMechanism,
        salted_password: &[u8],
        salt: Vec<u8>,
        iterations: i32,
    ) -> ScramCredential {
        let client_key = mechanism.hmac(salted_password, b"Client Key");
        ScramCredential {
            salt,
            stored_key: digest::digest(mechanism.digest_alg(), &client_key)
                .as_ref()
                .to_vec(),
            server_key: mechanism.hmac(salted_password, b"Server Key"),
            iterations,
        }
    }

    /// From a password, with a fresh random salt.
    pub fn from_password(
        mechanism: ScramMechanism,
        password: &str,
        iterations: i32,
    ) -> ScramCredential {
        let mut salt = vec![0u8; 24];
        // SystemRandom only fails if the OS has no randomness at all.
        let _ = ring::rand::SystemRandom::new().fill(&mut salt);
        let salted = mechanism.salted_password(password.as_bytes(), &salt, iterations as u32);
        ScramCredential::from_salted_password(mechanism, &salted, salt, iterations)
    }

    /// Whether `password` is this credential's password (SASL/PLAIN against a
    /// SCRAM credential).
    pub fn matches_password(&self, mechanism: ScramMechanism, password: &str) -> bool {
        let salted = mechanism.salted_password(
            password.as_bytes(),
            &self.salt,
            self.iterations.max(1) as u32,
        );
        let other = ScramCredential::from_salted_password(
            mechanism,
            &salted,
            self.salt.clone(),
            self.iterations,
        );
        constant_time_eq(&other.stored_key, &self.stored_key)
    }
}

/// The parsed client-first-message.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientFirst {
    /// The gs2 header as sent (`n,,` or `n,a=alice,`), bound in the final message.
    pub gs2_header: String,
    pub authzid: Option<String>,
    pub username: String,
    pub nonce: String,
    /// The message after the gs2 header (client-first-message-bare).
    pub bare: String,
    /// Extensions Kafka defines (`tokenauth=true`), by name.
    pub extensions: Vec<(String, String)>,
}

/// Why a client message could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScramParseError {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("bad gs2 header")]
    Gs2Header,
    #[error("channel binding is not supported")]
    ChannelBinding,
    #[error("missing or bad attribute {0}")]
    Attribute(&'static str),
    #[error("bad saslname escape")]
    Escape,
    #[error("bad nonce")]
    Nonce,
    #[error("bad base64")]
    Base64,
}

/// Decodes a saslname: `=2C` is ',', `=3D` is '='; any other '=' is an error.
fn unescape_saslname(s: &str) -> Result<String, ScramParseError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let esc = rest.get(i..i + 3).ok_or(ScramParseError::Escape)?;
        match esc {
            "=2C" => out.push(','),
            "=3D" => out.push('='),
            _ => return Err(ScramParseError::Escape),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    if out.is_empty() {
        return Err(ScramParseError::Attribute("n"));
    }
    Ok(out)
}

/// A nonce is printable ASCII other than ','.
fn valid_nonce(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// `k=value` with the expected one-letter key.
fn attr<'a>(part: Option<&'a str>, key: &'static str) -> Result<&'a str, ScramParseError> {
    part.and_then(|p| p.strip_prefix(key))
        .and_then(|p| p.strip_prefix('='))
        .ok_or(ScramParseError::Attribute(key))
}

pub fn parse_client_first(msg: &[u8]) -> Result<ClientFirst, ScramParseError> {
    let msg = std::str::from_utf8(msg).map_err(|_| ScramParseError::NotUtf8)?;
    // gs2-cbind-flag "," [authzid] ","
    let (flag, rest) = msg.split_once(',').ok_or(ScramParseError::Gs2Header)?;
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => return Err(ScramParseError::ChannelBinding),
        _ => return Err(ScramParseError::Gs2Header),
    }
    let (authz, bare) = rest.split_once(',').ok_or(ScramParseError::Gs2Header)?;
    let authzid = match authz {
        "" => None,
        a => Some(unescape_saslname(
            a.strip_prefix("a=").ok_or(ScramParseError::Gs2Header)?,
        )?),
    };
    let gs2_header = format!("{flag},{authz},");
    let mut parts = bare.split(',');
    let mut first = parts.next();
    if first.is_some_and(|p| p.starts_with("m=")) {
        // Mandatory extensions we do not know must make authentication fail.
        return Err(ScramParseError::Attribute("m"));
    }
    let username = unescape_saslname(attr(first.take(), "n")?)?;
    let nonce = attr(parts.next(), "r")?;
    if !valid_nonce(nonce) {
        return Err(ScramParseError::Nonce);
    }
    let mut extensions = Vec::new();
    for ext in parts {
        let (k, v) = ext
            .split_once('=')
            .ok_or(ScramParseError::Attribute("extension"))?;
        if k.is_empty() {
            return Err(ScramParseError::Attribute("extension"));
        }
        extensions.push((k.to_string(), v.to_string()));
    }
    Ok(ClientFirst {
        gs2_header,
        authzid,
        username,
        nonce: nonce.to_string(),
        bare: bare.to_string(),
        extensions,
    })
}

/// The parsed client-final-message.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientFinal {
    pub channel_binding: Vec<u8>,
    pub nonce: String,
    pub proof: Vec<u8>,
    /// The message up to (not including) ",p=": part of the AuthMessage.
    pub without_proof: String,
}

pub fn parse_client_final(msg: &[u8]) -> Result<ClientFinal, ScramParseError> {
    let msg = std::str::from_utf8(msg).map_err(|_| ScramParseError::NotUtf8)?;
    let proof_at = msg.rfind(",p=").ok_or(ScramParseError::Attribute("p"))?;
    let without_proof = &msg[..proof_at];
    let proof = &msg[proof_at + 3..];
    let mut parts = without_proof.split(',');
    let cbind = attr(parts.next(), "c")?;
    let nonce = attr(parts.next(), "r")?;
    if !valid_nonce(nonce) {
        return Err(ScramParseError::Nonce);
    }
    // Extensions may follow the nonce; none are defined for the final message.
    Ok(ClientFinal {
        channel_binding: B64.decode(cbind).map_err(|_| ScramParseError::Base64)?,
        nonce: nonce.to_string(),
        proof: B64.decode(proof).map_err(|_| ScramParseError::Base64)?,
        without_proof: without_proof.to_string(),
    })
}

/// Looks a user's credential up for one mechanism.
pub type CredentialLookup<'a> = dyn Fn(&str, ScramMechanism) -> Option<ScramCredential> + 'a;

// The big variant is the one a live exchange is in; boxing it buys nothing.
#[allow(clippy::large_enum_variant)]
enum State {
    ReceiveClientFirst,
    ReceiveClientFinal {
        first: ClientFirst,
        server_first: String,
        nonce: String,
        credential: ScramCredential,
    },
    Done,
}

/// One SCRAM exchange on one connection.
pub struct ScramServer {
    mechanism: ScramMechanism,
    state: State,
}

/// Kafka answers every credential problem with this SaslException text,
/// turned into its generic "invalid credentials" message.
fn invalid() -> SaslFailure {
    SaslFailure::InvalidCredentials
}

impl ScramServer {
    pub fn new(mechanism: ScramMechanism) -> ScramServer {
        ScramServer {
            mechanism,
            state: State::ReceiveClientFirst,
        }
    }

    pub fn evaluate(
        &mut self,
        token: &[u8],
        lookup: &CredentialLookup<'_>,
    ) -> Result<Outcome, SaslFailure> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::ReceiveClientFirst => {
                let first = parse_client_first(token).map_err(|_| invalid())?;
                if first
                    .extensions
                    .iter()
                    .any(|(k, v)| k == "tokenauth" && v == "true")
                {
                    // Delegation tokens do not exist here.
                    return Err(invalid());
                }
                let credential = lookup(&first.username, self.mechanism).ok_or_else(invalid)?;
                if let Some(a) = &first.authzid {
                    if *a != first.username {
                        return Err(SaslFailure::Auth(
                            "Authentication failed: Client requested an authorization id that is different from username".into(),
                        ));
                    }
                }
                if credential.iterations < MIN_ITERATIONS {
                    return Err(invalid());
                }
                let mut server_nonce = [0u8; 24];
                ring::rand::SystemRandom::new()
                    .fill(&mut server_nonce)
                    .map_err(|_| SaslFailure::InvalidCredentials)?;
                let nonce = format!("{}{}", first.nonce, B64.encode(server_nonce));
                let server_first = format!(
                    "r={nonce},s={},i={}",
                    B64.encode(&credential.salt),
                    credential.iterations
                );
                let reply = server_first.clone().into_bytes();
                self.state = State::ReceiveClientFinal {
                    first,
                    server_first,
                    nonce,
                    credential,
                };
                Ok(Outcome::Challenge(reply))
            }
            State::ReceiveClientFinal {
                first,
                server_first,
                nonce,
                credential,
            } => {
                let fin = parse_client_final(token).map_err(|_| invalid())?;
                if fin.nonce != nonce
                    || fin.channel_binding.as_slice() != first.gs2_header.as_bytes()
                {
                    return Err(invalid());
                }
                let auth_message = format!("{},{},{}", first.bare, server_first, fin.without_proof);
                let m = self.mechanism;
                let client_signature = m.hmac(&credential.stored_key, auth_message.as_bytes());
                if fin.proof.len() != client_signature.len() {
                    return Err(invalid());
                }
                let client_key: Vec<u8> = fin
                    .proof
                    .iter()
                    .zip(&client_signature)
                    .map(|(a, b)| a ^ b)
                    .collect();
                let computed = digest::digest(m.digest_alg(), &client_key);
                if !constant_time_eq(computed.as_ref(), &credential.stored_key) {
                    return Err(invalid());
                }
                let server_signature = m.hmac(&credential.server_key, auth_message.as_bytes());
                Ok(Outcome::Done {
                    response: format!("v={}", B64.encode(server_signature)).into_bytes(),
                    principal: first.username,
                    credential_expiry_ms: None,
                })
            }
            State::Done => Err(SaslFailure::IllegalState(
                "SCRAM exchange already finished".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal SCRAM client, written from RFC 5802 for the round trip.
    fn client_final(
        m: ScramMechanism,
        password: &str,
        client_first_bare: &str,
        server_first: &str,
    ) -> (String, Vec<u8>) {
        let mut salt = None;
        let mut iters = 0;
        let mut nonce = "";
        for p in server_first.split(',') {
            if let Some(v) = p.strip_prefix("s=") {
                salt = Some(B64.decode(v).unwrap());
            } else if let Some(v) = p.strip_prefix("i=") {
                iters = v.parse().unwrap();
            } else if let Some(v) = p.strip_prefix("r=") {
                nonce = v;
            }
        }
        let salted = m.salted_password(password.as_bytes(), &salt.unwrap(), iters);
        let client_key = m.hmac(&salted, b"Client Key");
        let stored = digest::digest(m.digest_alg(), &client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth = format!("{client_first_bare},{server_first},{without_proof}");
        let sig = m.hmac(stored.as_ref(), auth.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
        let server_sig = m.hmac(&m.hmac(&salted, b"Server Key"), auth.as_bytes());
        (
            format!("{without_proof},p={}", B64.encode(proof)),
            server_sig,
        )
    }

    fn lookup_alice(m: ScramMechanism) -> impl Fn(&str, ScramMechanism) -> Option<ScramCredential> {
        let cred = ScramCredential::from_password(m, "secret", 4096);
        move |u, mm| (u == "alice" && mm == m).then(|| cred.clone())
    }

    #[test]
    fn round_trip_both_mechanisms_and_wrong_password() {
        for m in ScramMechanism::ALL {
            let lookup = lookup_alice(m);
            for (password, ok) in [("secret", true), ("wrong", false)] {
                let mut s = ScramServer::new(m);
                let bare = "n=alice,r=abcdefNONCE";
                let Outcome::Challenge(sf) = s
                    .evaluate(format!("n,,{bare}").as_bytes(), &lookup)
                    .unwrap()
                else {
                    panic!("challenge expected")
                };
                let sf = String::from_utf8(sf).unwrap();
                assert!(sf.starts_with("r=abcdefNONCE"));
                let (fin, server_sig) = client_final(m, password, bare, &sf);
                match s.evaluate(fin.as_bytes(), &lookup) {
                    Ok(Outcome::Done {
                        response,
                        principal,
                        ..
                    }) => {
                        assert!(ok);
                        assert_eq!(principal, "alice");
                        assert_eq!(
                            response,
                            format!("v={}", B64.encode(server_sig)).into_bytes()
                        );
                    }
                    Err(SaslFailure::InvalidCredentials) => assert!(!ok),
                    other => panic!("{m:?} {password}: {:?}", other.map(|_| ())),
                }
            }
        }
    }

    #[test]
    fn unknown_user_and_bad_messages_fail() {
        let lookup = lookup_alice(ScramMechanism::Sha256);
        let mut s = ScramServer::new(ScramMechanism::Sha256);
        assert!(matches!(
            s.evaluate(b"n,,n=bob,r=x", &lookup),
            Err(SaslFailure::InvalidCredentials)
        ));
        for bad in [
            &b""[..],
            b"n",
            b"n,",
            b"x,,n=a,r=b",
            b"p=tls-unique,,n=a,r=b",
            b"n,,m=1,n=a,r=b",
            b"n,,n=,r=b",
            b"n,,n=a=,r=b",
            b"n,,n=a=2,r=b",
            b"n,,n=a,r=",
            b"n,,n=a,r=b c",
            b"n,,n=a",
            b"n,b=x,n=a,r=b",
            b"\xff\xfe",
        ] {
            assert!(parse_client_first(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_client_first(b"n,a=al=2Cice,n=al=2Cice,r=n0nce,tokenauth=true")
                .unwrap()
                .username,
            "al,ice"
        );
        for bad in [
            &b""[..],
            b"c=biws,r=x",
            b"c=biws,r=x,p=!!",
            b"c=!!,r=x,p=AA==",
            b"r=x,c=biws,p=AA==",
        ] {
            assert!(parse_client_final(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_scram_parsers_or_server() {
        // A deterministic fuzz: random bytes, random mutations of valid
        // messages, through both parsers and a full server exchange.
        let lookup = lookup_alice(ScramMechanism::Sha512);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let valid: [&[u8]; 3] = [
            b"n,,n=alice,r=abc",
            b"c=biws,r=abcXYZ,p=AAAA",
            b"y,a=alice,n=alice,r=q,ext=1",
        ];
        for i in 0..20_000 {
            let mut msg: Vec<u8> = if i % 2 == 0 {
                (0..(next() % 64)).map(|_| next() as u8).collect()
            } else {
                valid[(next() % 3) as usize].to_vec()
            };
            for _ in 0..(next() % 4) {
                if msg.is_empty() {
                    break;
                }
                let at = (next() as usize) % msg.len();
                msg[at] = match next() % 4 {
                    0 => b',',
                    1 => b'=',
                    2 => 0xff,
                    _ => next() as u8,
                };
            }
            let _ = parse_client_first(&msg);
            let _ = parse_client_final(&msg);
            let mut s = ScramServer::new(ScramMechanism::Sha512);
            let _ = s.evaluate(&msg, &lookup);
            let _ = s.evaluate(&msg, &lookup);
            let _ = s.evaluate(&msg, &lookup);
        }
    }
}
