//! Every user-facing string of the desk, in one place: tab names, prompts, status messages.
//! Strings built from data take the data as arguments; nothing here reads state.

use crate::core::model::InvalidReason;

pub const APP_TITLE: &str = "secdesk";
pub const LOADING: &str = "loading…";
pub const EMPTY_QUEUE: &str = "Nothing here. Tab switches queues, / searches.";
pub const NO_REPORT: &str = "No report under the cursor.";
pub const NOTHING_TO_UNDO: &str = "Nothing to undo.";
pub const HELP_TITLE: &str = " Keys — ? or Esc closes ";
pub const SEARCH_PROMPT: &str = "Search: ";
pub const DUPLICATE_PROMPT: &str = "Duplicate of report #: ";
pub const ASSIGN_TITLE: &str = "Assign {} to";
pub const STATE_TITLE: &str = "Move {} to state";
pub const REASON_TITLE: &str = "{} invalid because";
pub const NO_TRANSITIONS: &str = "No state change is allowed from here.";
pub const NOT_A_NUMBER: &str = "Type the number of the original report, e.g. 12.";
pub const EMPTY_NOTE: &str = "An empty note was not added.";
pub const SORT_AGE: &str = "newest first";
pub const SORT_DEADLINE: &str = "deadline first";
pub const STATS_TITLE: &str = "Stats";
pub const THREAD_IN: &str = "reporter";
pub const THREAD_OUT: &str = "our reply";
pub const THREAD_NOTE: &str = "team note";
pub const SYNC_OFF: &str = "sync off";

pub fn quit_hint() -> &'static str {
    "q quits"
}

pub fn search_active(q: &str) -> String {
    format!("search: {q}")
}

pub fn queue_position(cursor: usize, total: usize) -> String {
    if total == 0 {
        "0 of 0".to_string()
    } else {
        format!("{} of {}", cursor + 1, total)
    }
}

pub fn selected(n: usize) -> String {
    format!("{n} selected")
}

pub fn selection_toggled(id: i64, on: bool, n: usize) -> String {
    if on {
        format!("#{id} selected ({n} in all): s or i acts on every selected report")
    } else {
        format!("#{id} unselected ({n} left)")
    }
}

pub fn invalid_reason_label(r: InvalidReason) -> &'static str {
    match r {
        InvalidReason::NotAVulnerability => "not a vulnerability",
        InvalidReason::ThirdParty => "third party (report it upstream)",
        InvalidReason::SupportRequest => "support request",
        InvalidReason::WorkingAsIntended => "working as intended",
        InvalidReason::NoResponse => "no response from the reporter",
        InvalidReason::Other => "other",
    }
}

pub fn reports(ids: &[i64]) -> String {
    match ids {
        [one] => format!("#{one}"),
        many => format!(
            "{} reports ({})",
            many.len(),
            many.iter()
                .map(|i| format!("#{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

pub fn undo_hint() -> &'static str {
    " — u undoes"
}

pub fn undone(what: &str) -> String {
    format!("Undone: {what}")
}

pub fn sync_failed(e: &str) -> String {
    format!("sync failed: {e} (the desk keeps working; retrying)")
}

pub fn sync_done(new: usize) -> String {
    match new {
        0 => "synced: no new mail".to_string(),
        1 => "synced: 1 new message".to_string(),
        n => format!("synced: {n} new messages"),
    }
}

/// A store error as one line: the store's own line naming the file (read-only, busy, full,
/// damaged …, as the CLI prints it), else what went wrong.
pub fn store_error(e: &(dyn std::error::Error + 'static), path: &std::path::Path) -> String {
    crate::core::store::describe_error(e, path)
        .unwrap_or_else(|| format!("the store {}: {e}", path.display()))
}

pub const NO_IMAP: &str = "sync off: the config has no [imap] section";
pub const SYNC_NOT_BUILT: &str = "IMAP sync is not in this build yet";
pub const DEMO_GREETING: &str =
    "Demo mailbox loaded into a temporary database. ? shows the keys, q quits.";
pub const NOBODY: &str = "nobody";
pub const REPORTER_ANSWERED: &str = "the reporter answered";
pub const WHY_CLASS: &str = "Classifier";
pub const AUDIT_LOG: &str = "Audit log";

pub fn thread_title(n: usize) -> String {
    match n {
        1 => "Thread (1 item)".to_string(),
        n => format!("Thread ({n} items)"),
    }
}
pub const NOT_A_TERMINAL: &str =
    "the desk needs a terminal: run secdesk in one, or use `secdesk list` (`secdesk demo --list` for the demo)";

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

pub fn reply_problem(problem: &str) -> String {
    format!("⚠ {problem} — e edits the reply")
}

pub fn editor_failed(e: &str) -> String {
    format!("{e}; the reply was not sent")
}

pub const WEEKLY_INTAKE: &str = " Weekly intake by class (spam, invalid, valid) · m: monthly ";
pub const MONTHLY_INTAKE: &str = " Monthly intake by class (spam, invalid, valid) · m: weekly ";
pub const RESPONSE_TITLE: &str = " Median response vs target, share met ";

pub const BAD_SIGNATURE_TITLE: &str = " ⚠ BAD PGP SIGNATURE ";
pub const BAD_SIGNATURE_BANNER: &str = "!!! BAD PGP SIGNATURE on a message below: it does not verify; do not trust its signed text !!!";

pub const REPLY_STILL_CHECKING: &str =
    "still checking the recipients (keys, limit): press y again in a moment";
pub const PREVIEW_SEALING: &str = "Encryption";
pub const PREVIEW_CHECKING: &str = "checking the recipients' keys…";

pub fn send_to_all(n: usize) -> String {
    format!("Send to all {n} addresses? [y]es; n goes back to the preview, where e edits")
}

/// The `d` picker's mark on a report the classifier finds similar.
pub fn similar_mark(score: f64) -> String {
    format!("≈{:.0}% ", score * 100.0)
}

pub const SIMILAR_HINT: &str = "d offers them first";

pub const NO_HELD_POST: &str = "no held post here";
pub const HELD_NONE: &str = "No post is held.";
pub const HELD_TITLE: &str =
    " Held posts (Mailman) · a accept · s discard as spam · z defer · r reject · S sweep spam ";
pub const REJECT_REASON_TITLE: &str = "Reject {} with the reason";
pub const OWN_REASON: &str = "own words (opens $EDITOR)";
pub const REJECT_CANCELLED: &str = "Reject cancelled: nothing was sent.";
pub const REJECT_EMPTY: &str = "Reject cancelled: the reason is empty; nothing was sent.";
pub const REJECT_TO: &str = "Mailed to";
pub const REJECT_POST: &str = "Post";
pub const REJECT_HELD: &str = "Held because";
pub const REJECT_FROM: &str = "Reason from";

pub fn held_request(request_id: u64) -> String {
    format!("request {request_id}")
}

pub fn reason_broken(name: &str) -> String {
    format!("{name} (cannot be used: choose it to see why)")
}

/// The reason's source on the preview.
pub fn reason_source(template: Option<&str>) -> String {
    match template {
        Some(t) => format!("template {t} (e edits it in $EDITOR)"),
        None => "your own words".to_string(),
    }
}

pub fn reject_title(request_id: u64) -> String {
    format!(" Reject held request {request_id}: Mailman mails this reason to the sender · y send · e edit · n cancel ")
}

pub fn nothing_to_sweep(held: usize) -> String {
    format!("nothing to sweep: none of the {held} held posts is classified spam")
}

pub fn confirm_sweep(spam: usize, stay: usize) -> String {
    format!(
        "Discard {spam} held post{} classified spam? {stay} classified valid, invalid or unsure stay held. y/N",
        if spam == 1 { "" } else { "s" }
    )
}

pub fn sweep_progress(done: usize, total: usize) -> String {
    format!("sweeping spam: {done} of {total} discarded…")
}

pub fn swept(discarded: usize, already: usize) -> String {
    format!(
        "swept: {discarded} held post{} discarded as spam (classifier trained); {already} already handled",
        if discarded == 1 { "" } else { "s" }
    )
}

pub fn sweep_stopped(done: usize, total: usize, e: &str) -> String {
    format!(
        "the sweep stopped after {done} of {total} posts (those are discarded and recorded): {e}"
    )
}

pub fn moderating(action: &str, request_id: u64) -> String {
    format!("{action}: request {request_id}…")
}

pub fn held_post(request_id: u64, subject: &str, sender: &str) -> String {
    format!("request {request_id} (\"{subject}\" from {sender})")
}

pub fn moderated(action: &str, what: &str) -> String {
    let done = match action {
        "accept" => "accepted",
        "discard" => "discarded as spam",
        "reject" => "rejected (the reason is mailed to the sender)",
        _ => "deferred",
    };
    format!("{what} {done}")
}

pub fn already_moderated(what: &str) -> String {
    format!("{what}: already handled by someone else; nothing done")
}

pub fn held_failed(e: &str) -> String {
    format!("held queue: {e}")
}

pub fn is_replying(who: &str, minutes: i64) -> String {
    format!("{who} is replying ({minutes} min)")
}

pub fn also_replying(line: &str, id: i64) -> String {
    format!("{line} to report #{id}: two replies may reach the reporter; n in the preview cancels yours")
}

/// The question before the editor opens when `who` ("Ada is replying (4 min)") is
/// answering report `id`.
pub fn write_anyway(who: &str, id: i64) -> String {
    format!("{who} to #{id}: two replies may reach the reporter. Write yours anyway? y/N")
}

pub const REPLY_NOT_STARTED: &str = "no reply written; the other member's reply goes on";

pub fn embargo_countdown(days_left: i64) -> String {
    if days_left < 0 {
        format!("embargo ended {}d ago", -days_left)
    } else {
        format!("embargo {days_left}d")
    }
}

pub fn embargo_left(days_left: i64) -> String {
    if days_left < 0 {
        format!("ended {}d ago", -days_left)
    } else {
        format!("{days_left}d left")
    }
}

pub fn advisory_refused(e: &str) -> String {
    format!("advisory form not saved: {e}; A opens your form again")
}

pub fn advisory_form_error(id: i64, e: &str) -> String {
    format!("advisory form of report #{id}, {e}")
}

pub fn advisory_form_errors(id: i64, errors: &[String]) -> String {
    format!("advisory form of report #{id}: {}", errors.join("; "))
}

pub fn advisory_edit_again(id: i64, n: usize) -> String {
    let problems = if n == 1 {
        "1 problem".to_string()
    } else {
        format!("{n} problems")
    };
    format!(
        "Advisory form of #{id}: {problems} (L lists them). Edit again? [y/n; n keeps it for A]"
    )
}

pub fn advisory_saved(id: i64, changed: &[&str]) -> String {
    if changed.is_empty() {
        format!("report #{id}: advisory unchanged")
    } else {
        format!("report #{id}: advisory {} changed", changed.join(", "))
    }
}

pub fn compose_failed(e: &str) -> String {
    format!("cannot write the reply: {e}")
}

pub fn reply_queued(report_id: i64, outbox_id: i64) -> String {
    format!("Reply to #{report_id} saved in the outbox (#{outbox_id}); sending…")
}

pub fn reply_sent(report_id: i64, already: bool, now_state: Option<&str>) -> String {
    let how = if already {
        "was already on the server (not sent again)"
    } else {
        "sent"
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

pub fn reply_taken_elsewhere(outbox_id: i64) -> String {
    format!("Outbox #{outbox_id} is being sent by another desk right now")
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

/// The sync worker's line after a round.
pub fn sync_round(new: usize, replies_sent: usize, replies_failed: &[String]) -> String {
    let mut line = sync_done(new);
    if replies_sent > 0 {
        line.push_str(&format!(", {replies_sent} queued reply(ies) sent"));
    }
    if let Some(last) = replies_failed.last() {
        line.push_str(&format!(
            ", {} reply(ies) still queued ({last})",
            replies_failed.len()
        ));
    }
    line
}

// Workers.
pub fn worker_panicked(worker: &str, message: &str, at: Option<&str>) -> String {
    let at = at
        .filter(|a| !a.is_empty())
        .map(|a| format!(" at {a}"))
        .unwrap_or_default();
    format!(
        "internal error: the {worker} worker panicked ({message}{at}); it was started again, and the desk goes on — please report this"
    )
}

pub fn worker_given_up(message: &str) -> String {
    format!("{message} (it kept failing and was stopped: restart secdesk)")
}

pub fn terminal_lost(e: &str) -> String {
    format!("the terminal could not be restored after the editor ({e}): quit with q and start secdesk again")
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

// Moderation, the cursor, Esc and q.
pub const OTHER_REASON: &str = "other: type the reason…";
pub const EMPTY_REASON: &str = "No reason typed: nothing changed.";
pub const NOTHING_MATCHES: &str = "Nothing matches what was typed: nothing changed.";
pub const NOTHING_CHANGED: &str = "Nothing changed.";
pub const NO_SEARCH: &str = "No search yet: / searches, then n and N step through the matches.";
pub const SEARCH_CLEARED: &str = "Search cleared.";
pub const ESC_DOES_NOT_QUIT: &str = "Esc closes prompts and views; q quits the desk.";
pub const COMMAND_PROMPT: &str = ":";
pub const FIND_PROMPT: &str = "Find in report: ";
pub const MESSAGES_TITLE: &str = " Messages (last 100) — j/k scroll, any other key closes ";
pub const REASONS_FOLDED: &str = "w shows";
pub const NOTHING_LOGGED: &str = "No messages yet.";

/// "mark 40 as spam: 15 suggested valid, 10 unsure? y/N"
pub fn confirm_bulk(total: usize, class: &str, counts: &[(String, usize)]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    format!("mark {total} as {class}: {}? y/N", parts.join(", "))
}

pub fn quit_with_selection(n: usize) -> String {
    format!("quit with {n} selected (the selection is dropped, nothing else changes)? y/N")
}

pub fn selection_cleared(n: usize) -> String {
    format!("Selection cleared ({n} unselected).")
}

pub fn now_on(id: i64) -> String {
    format!(" · now on #{id}")
}

pub fn no_such_report(id: i64) -> String {
    format!("no report #{id}")
}

pub fn match_position(cursor: usize, total: usize) -> String {
    format!("match {}", queue_position(cursor, total))
}

pub fn unknown_command(c: &str) -> String {
    format!("unknown command :{c} (:messages shows the message log, :q quits)")
}

pub fn reasons_folded(n: usize) -> String {
    match n {
        1 => format!("1 reason, {REASONS_FOLDED}"),
        n => format!("{n} reasons, {REASONS_FOLDED}"),
    }
}
pub const DUPLICATE_TITLE: &str = "{} duplicate of (type a subject or #id)";
pub const PICKER_TYPE_HINT: &str = "type to narrow, ↑↓ move, Enter picks";
pub const NOTHING_LISTED: &str = " nothing matches";
pub const CONFIRM_TITLE: &str = " Are you sure? y does it, any other key does not ";
pub const NO_MATCH_HERE: &str =
    "No match in this queue. Tab moves to another (All holds every report); Esc clears the search.";

pub fn preview_then_unknown(id: i64, state: &str) -> String {
    format!("#{id} moves to {state} if its state allows")
}

pub fn no_match_in_report(q: &str) -> String {
    format!("\"{q}\" is not in this report.")
}

pub fn report_match(n: usize, of: usize, wrapped: bool) -> String {
    let wrap = if wrapped { " (wrapped round)" } else { "" };
    format!("match {n} of {of}{wrap} · n next, N previous")
}

/// A picker's title with the report(s) it changes in place of `{}`.
pub fn picker_title(title: &str, target: &str) -> String {
    format!(" {} ", title.replacen("{}", target, 1))
}

pub fn note_prompt(target: &str) -> String {
    format!("Note on {target}: ")
}

pub fn reason_prompt(target: &str) -> String {
    format!("{target} invalid because: ")
}

pub const ANSWERED_TITLE: &str = "{}: the reporter was answered by";

/// The status line after `A`: "#4 answered by phone (first response recorded)".
pub fn answered(via: &str) -> String {
    format!("answered by {via} (first response recorded)")
}

/// A failed read or write in the desk's words: the CLI's hint (`secdesk list`) means nothing
/// where the queue is on screen, and a store error names the store file, as the CLI's do.
pub fn triage_error(e: &crate::core::triage::TriageError, path: &std::path::Path) -> String {
    match e {
        crate::core::triage::TriageError::NoSuchReport(id) => no_such_report(*id),
        e => crate::core::store::describe_error(e, path).unwrap_or_else(|| e.to_string()),
    }
}
