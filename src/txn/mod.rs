//! Transactions (exactly-once): the transaction coordinator, the states of
//! a transactional id, and their records in the internal topic
//! `__transaction_state`. Per-partition transaction bookkeeping (ongoing
//! transactions, last stable offset, aborted-transaction index, markers)
//! lives in storage; offsets committed inside a transaction live in the
//! group coordinator. No wire protocol here: handlers translate.

pub mod coordinator;
pub mod error;
pub mod state;
pub mod txn_log;

pub use coordinator::{TransactionCoordinator, TxnConfig};
pub use error::TxnError;
pub use state::TxnState;

#[cfg(test)]
mod coordinator_tests;
