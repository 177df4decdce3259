//! The desk's words for replies: the template picker, the preview, who a reply goes to, two
//! members replying at once, sending and the outbox. Re-exported as `tui::text::*`.

// Replies (`r`).
pub const TEMPLATE_TITLE: &str = "Reply to {} with template";
pub const BLANK_TEMPLATE: &str = "blank (no template)";
pub const EDITOR_NOT_HERE: &str =
    "internal error: a reply step reached the wrong worker; press r to start the reply again";
pub const COMPOSING: &str = "Composing the reply…";
pub const REPLY_CANCELLED: &str = "Reply cancelled: nothing was sent.";
pub const REPLY_EMPTY: &str = "The reply's body was left empty: nothing was sent.";
pub const REPLY_FIX_FIRST: &str = "This reply cannot be sent as it stands: e edits it, n cancels.";
pub const PREVIEW_FROM: &str = "From";
pub const PREVIEW_TO: &str = "To";
pub const PREVIEW_CC: &str = "Cc";
pub const PREVIEW_SUBJECT: &str = "Subject";
pub const PREVIEW_IN_REPLY_TO: &str = "In reply to";
pub const PREVIEW_THEN: &str = "After sending";
pub const OUTBOX_SECTION: &str = "Outbox: replies not yet sent";

pub fn preview_title(report_id: i64) -> String {
    format!(" Reply to #{report_id} — y sends, e edits, n cancels ")
}

/// The preview's bottom border when the message is taller than the box: which rows show,
/// and the keys that reach the rest.
pub fn preview_position(first: usize, last: usize, total: usize) -> String {
    if last < total {
        format!(" ↓ more: lines {first}-{last} of {total} · j/k Space scroll ")
    } else {
        format!(" lines {first}-{last} of {total} (end) · k/g scroll up ")
    }
}

pub fn reply_problem(problem: &str) -> String {
    format!("⚠ {problem} — e edits the reply")
}

pub fn editor_failed(e: &str) -> String {
    format!("{e}; the reply was not sent")
}

pub const REPLY_STILL_CHECKING: &str =
    "still checking the recipients (keys, limit): press y again in a moment";
pub const PREVIEW_SEALING: &str = "Encryption";
pub const PREVIEW_CHECKING: &str = "checking the recipients' keys…";

/// The preview's warning over a reply that would go out readable to an encrypted report.
pub fn readable_reply(why: &str) -> String {
    format!("The report came ENCRYPTED; this reply and its quote go out READABLE: {why}")
}

/// The question before sending it so (and to more addresses than `[reply] max_recipients`).
pub fn send_unencrypted(over_limit: Option<usize>) -> String {
    let to = over_limit.map_or(String::new(), |n| format!(" to all {n} addresses"));
    format!("The report came encrypted: send this reply UNENCRYPTED{to}? [y]es; n goes back to the preview, where e edits")
}

pub fn send_to_all(n: usize) -> String {
    format!("Send to all {n} addresses? [y]es; n goes back to the preview, where e edits")
}

pub fn is_replying(who: &str, minutes: i64) -> String {
    format!("{who} is replying ({minutes} min)")
}

/// The `who` of [`write_anyway`] when the report has a reply of ours in the outbox that
/// is still sending or unconfirmed.
pub fn unsettled_reply(outbox_id: i64, state: crate::core::outbox::OutboxState) -> String {
    if state == crate::core::outbox::OutboxState::Queued {
        return format!("outbox #{outbox_id}, a reply queued to go at the next delivery,");
    }
    format!("outbox #{outbox_id}, a reply that may already have reached the reporter ({state}),")
}

pub fn also_replying(line: &str, id: i64) -> String {
    format!("{line} to report #{id}: two replies may reach the reporter; n in the preview cancels yours")
}

/// The question before the editor opens when `who` ("Ada is replying (4 min)") is
/// answering report `id`.
pub fn write_anyway(who: &str, id: i64) -> String {
    format!("{who} to #{id}: two replies may reach the reporter. Write yours anyway? y/N")
}

pub const REPLY_NOT_STARTED: &str = "no reply written; the other reply goes on";

pub fn compose_failed(e: &str) -> String {
    format!("cannot write the reply: {e}")
}

/// `y` in the demo: what would have happened, and that nothing did.
pub fn reply_not_sent_in_demo(report_id: i64, to: &str) -> String {
    format!(
        "Demo: the reply to #{report_id} would now be saved in the outbox and sent to {}; nothing was sent (your own config's [smtp] sends it)",
        crate::core::sanitize::terminal_line(to)
    )
}

pub fn reply_queued(report_id: i64, outbox_id: i64) -> String {
    format!("Reply to #{report_id} saved in the outbox (#{outbox_id}); sending…")
}

pub fn reply_sent(report_id: i64, already: bool, resent: bool, now_state: Option<&str>) -> String {
    let how = if already {
        "was already on the server (not sent again)".to_string()
    } else if resent {
        format!("sent again ({})", crate::core::outbox::RESENT_WHY)
    } else {
        "sent".to_string()
    };
    match now_state {
        Some(s) => format!("Reply to #{report_id} {how}; the report is now {s}"),
        None => format!("Reply to #{report_id} {how}"),
    }
}

pub fn reply_sent_with_warning(sent: &str, warning: &str) -> String {
    format!("{sent}, but {warning}")
}

pub fn reply_still_queued(report_id: i64, outbox_id: i64, error: &str, retry: &str) -> String {
    format!(
        "Reply to #{report_id} is queued (outbox #{outbox_id}), not sent yet: {error}; retried from {retry} or with `secdesk outbox --retry`"
    )
}

pub fn reply_refused(report_id: i64, error: &str) -> String {
    format!("Reply to #{report_id} was refused for good: {error}")
}

pub fn reply_unverified(report_id: i64, error: &str) -> String {
    format!("Reply to #{report_id}: {error}")
}

pub fn reply_sent_unrecorded(report_id: i64, error: &str) -> String {
    format!(
        "Reply to #{report_id} WAS sent, but recording it failed ({error}): do not send it again; it stays in the outbox as unfinished"
    )
}

/// The server may have the reply (its connection was lost after the message), and the store
/// could not record even that: as [`reply_sent_unrecorded`], it must not be sent again.
pub fn reply_uncertain_unrecorded(report_id: i64, outbox_id: i64, error: &str) -> String {
    format!(
        "Reply to #{report_id}: outbox #{outbox_id} may have reached the server and is kept unfinished; do not send it again ({error})"
    )
}

/// Nothing was sent, and the store could not record what happened (a full disk).
pub fn reply_not_recorded(report_id: i64, error: &str) -> String {
    format!("Reply to #{report_id}: {error}")
}

/// A reply this attempt did not send, and why (`mailio::delivery`'s words: another
/// delivery has it, which may be this desk's own sync round; or it was edited or discarded).
pub fn reply_taken_elsewhere(why: &str) -> String {
    let mut chars = why.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn delivery_failed(e: &str) -> String {
    format!("the reply is kept in the outbox, but delivery could not run: {e}")
}

pub fn outbox_pending(n: usize) -> String {
    format!("outbox: {n} pending")
}

/// One outbox row in the report view.
pub fn outbox_line(id: i64, state: &str, attempts: i64, error: Option<&str>) -> String {
    let error = error.map(|e| format!(": {e}")).unwrap_or_default();
    format!("#{id} {state} after {attempts} attempt(s){error}")
}

// Who a reply goes to (issue 11).
pub const PREVIEW_RECIPIENTS: &str = "Sent to";
pub const PREVIEW_OTHERS: &str = "Not addressed";
pub const THREAD_ANOTHER_SENDER: &str = "ANOTHER SENDER, not the reporter";

/// `N address(es): a, b`.
pub fn recipient_count(n: usize, list: &str) -> String {
    format!("{n} address{}: {list}", if n == 1 { "" } else { "es" })
}

pub fn other_senders(list: &str) -> String {
    format!("{list} (another sender in the thread; answer with secdesk reply --to)")
}

#[cfg(test)]
mod tests {
    use crate::core::outbox::RESENT_WHY;

    /// The desk says why a reply went out again in the words `secdesk reply` uses: the
    /// reporter may get it twice, and it was taken as not delivered. (The desk's copies of
    /// that sentence had drifted from the command line's.)
    #[test]
    fn a_resent_reply_is_explained_on_the_desk_as_on_the_command_line() {
        let status = super::reply_sent(7, false, true, Some("acknowledged"));
        assert_eq!(
            status,
            "Reply to #7 sent again (an earlier attempt may have reached the server, but its \
             team copy never arrived, so it was taken as not delivered; the reporter may get it \
             twice); the report is now acknowledged"
        );
        let round = crate::tui::text::sync_round(0, 2, 1, &[], None, &[], &[]);
        assert!(
            round.contains(&format!("(1 sent again: {RESENT_WHY})")),
            "{round}"
        );
        assert!(!super::reply_sent(7, false, false, None).contains("again"));
    }
}
