//! The desk's triage writes: each [`TriageOp`] is one call into the triage core, made with
//! the version the view loaded. Placeholder until the triage branch lands.

use crate::core::config::Config;
use crate::core::store::Store;

use super::action::{Applied, Batch, UndoEntry};

pub fn apply(_store: &mut Store, _config: &Config, batch: Batch) -> Applied {
    Applied {
        label: batch.label,
        undo: false,
        changed: Vec::new(),
        unchanged: Vec::new(),
        refused: batch
            .ops
            .iter()
            .map(|o| (o.id, "triage is not in this build yet".to_string()))
            .collect(),
    }
}

pub fn undo(_store: &mut Store, _config: &Config, entry: UndoEntry) -> Applied {
    Applied {
        label: entry.label,
        undo: true,
        changed: Vec::new(),
        unchanged: Vec::new(),
        refused: Vec::new(),
    }
}
