//! Who may connect and as whom: named listeners and their security protocols,
//! TLS (rustls), SASL authentication (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER)
//! and the SCRAM credential store. The server asks this module to wrap a
//! socket and to authenticate a connection; the principal it yields goes into
//! the connection's `Session`. Authorization is not here.

pub mod dev_certs;
pub mod listeners;
pub mod sasl;
pub mod scram_store;
pub mod settings;
pub mod tls;
mod x500;

pub use listeners::{Listener, SecurityProtocol};
