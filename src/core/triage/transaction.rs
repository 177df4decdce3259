//! The one way a triage change touches the store: a single immediate transaction. A leaf
//! module, so every action (state, notes, coordinator, responded, advisories) can share it
//! without importing the others.

use rusqlite::{Connection, TransactionBehavior};

use super::TriageError;
use crate::core::store::Store;

/// Runs `f` in an immediate (write-locking) transaction, so two desks cannot interleave a
/// read-check-write on the same report; the busy timeout makes the second one wait.
pub(crate) fn in_transaction<T>(
    store: &mut Store,
    f: impl FnOnce(&Connection) -> Result<T, TriageError>,
) -> Result<T, TriageError> {
    let tx = store
        .conn_mut()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}
