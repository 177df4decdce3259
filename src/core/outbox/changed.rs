//! What became of an outbox row while someone held an older copy of it: the words of an
//! edit refused ([`super::requeue_edited`]) and of a claim that lost ([`super::claim`]),
//! true to each case. The row cannot tell which process moved it, so no message guesses:
//! a delivery may be this desk's own sync, `secdesk outbox --retry`, the desk's background
//! round, or another desk sharing the store.

use super::{OutboxEntry, OutboxState};

/// Who may have moved a row, for messages.
const A_DELIVERY: &str =
    "a delivery (this desk's sync or `secdesk outbox --retry`, or another desk sharing the store)";

/// Why an edit of `before` (the row as the editor opened it) was not applied, given the
/// row `now`. Ends with what to do next.
pub fn while_editing(before: &OutboxEntry, now: &OutboxEntry) -> String {
    let (id, r) = (now.id, now.report_id);
    if now.message_id != before.message_id {
        return format!(
            "another `secdesk outbox --edit {id}` replaced the reply while you edited it, and that version is {} now; `secdesk outbox` shows it",
            now.state
        );
    }
    let error = now
        .last_error
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    match now.state {
        OutboxState::Sending => format!(
            "while you edited it, {A_DELIVERY} took the reply up and is sending it as it stood; `secdesk outbox` shows how that ends, and once it is sent, follow it up with `secdesk reply {r}`"
        ),
        OutboxState::Sent => format!(
            "while you edited it, {A_DELIVERY} sent the reply as it stood; follow it up with `secdesk reply {r}`"
        ),
        OutboxState::Uncertain => format!(
            "while you edited it, {A_DELIVERY} tried to send the reply as it stood, and the server may have taken it{error}; `secdesk outbox` shows it"
        ),
        OutboxState::Queued | OutboxState::FailedPermanent => format!(
            "while you edited it, {A_DELIVERY} tried to send the reply as it stood, and it was not sent{error}; it is {} again: run `secdesk outbox --edit {id}` again",
            now.state
        ),
        OutboxState::Discarded => format!(
            "the reply was discarded (`secdesk outbox --discard {id}`) while you edited it; `secdesk reply {r}` writes a new one"
        ),
        OutboxState::Failed => format!(
            "report #{r} was deleted while you edited its reply, so the reply is never sent"
        ),
    }
}

/// Why a delivery that read `before` could not claim it, given the row `now` (`None`: the
/// row is gone).
pub fn before_claim(before: &OutboxEntry, now: Option<&OutboxEntry>) -> String {
    let id = before.id;
    let Some(now) = now else {
        return format!("outbox #{id} is gone, so it is not sent");
    };
    if now.message_id != before.message_id {
        return format!(
            "outbox #{id} was edited meanwhile (`secdesk outbox --edit`), so the copy this attempt read is out of date and was not sent; the edited reply is {} now and goes on its own attempt",
            now.state
        );
    }
    match now.state {
        OutboxState::Sending => format!("outbox #{id} was just taken up by {A_DELIVERY}"),
        OutboxState::Sent => format!("outbox #{id} was just sent by {A_DELIVERY}"),
        OutboxState::Discarded => {
            format!("outbox #{id} was discarded meanwhile, so it is not sent")
        }
        OutboxState::Failed => now
            .last_error
            .clone()
            .unwrap_or_else(|| format!("outbox #{id} can never be sent")),
        OutboxState::Queued | OutboxState::Uncertain | OutboxState::FailedPermanent => format!(
            "outbox #{id} was just tried by {A_DELIVERY}, and is {} now",
            now.state
        ),
    }
}
