//! `TxnError`: why the transaction coordinator refused a request. Each
//! variant is named after the Kafka error the broker answers with (the
//! mapping to wire codes lives in `broker/error_code.rs`).

use std::sync::Arc;

use crate::storage::StorageError;

/// A transaction coordinator failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TxnError {
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    #[error("transaction timeout {timeout_ms} ms is outside 1..={max_ms} ms (transaction.max.timeout.ms)")]
    InvalidTransactionTimeout { timeout_ms: i32, max_ms: i32 },
    /// Another operation on this transactional id is completing: retry.
    #[error("a transaction for this transactional id is being completed; retry")]
    ConcurrentTransactions,
    /// A newer producer with the same transactional id took over.
    #[error("producer epoch {epoch} is fenced by epoch {current}")]
    ProducerFenced { epoch: i16, current: i16 },
    /// The producer id does not belong to this transactional id (or the id is unknown).
    #[error("the producer id is not the one of this transactional id")]
    InvalidProducerIdMapping,
    /// The request does not fit the transaction's state.
    #[error("invalid transaction state: {0}")]
    InvalidTxnState(&'static str),
    /// Produce to a partition that was not added to the transaction (Produce v11+).
    #[error("the partition was not added to the transaction")]
    TransactionAbortable,
    #[error("transactional id not found")]
    TransactionalIdNotFound,
    /// The producer id allocator could not persist its next block.
    #[error("cannot allocate a producer id")]
    ProducerIdAllocation,
    /// Reading or writing `__transaction_state` or a marker failed.
    #[error("cannot write transaction state")]
    Storage(#[source] Arc<StorageError>),
}

impl From<StorageError> for TxnError {
    fn from(e: StorageError) -> Self {
        TxnError::Storage(Arc::new(e))
    }
}
