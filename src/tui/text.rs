//! Every user-facing string of the desk, in one place: tab names, prompts, status messages.
//! Strings built from data take the data as arguments; nothing here reads state.

use crate::core::model::InvalidReason;

pub const APP_TITLE: &str = "secdesk";
pub const LOADING: &str = "loading…";
pub const EMPTY_QUEUE: &str = "Nothing here. Tab switches queues, / searches.";
pub const NO_REPORT: &str = "No report under the cursor.";
pub const REPLY_UNAVAILABLE: &str =
    "Replies are not available in this build yet (issue 6): use your mail client for now.";
pub const NOTHING_TO_UNDO: &str = "Nothing to undo.";
pub const HELP_TITLE: &str = " Keys — ? or Esc closes ";
pub const SEARCH_PROMPT: &str = "Search: ";
pub const NOTE_PROMPT: &str = "Note: ";
pub const DUPLICATE_PROMPT: &str = "Duplicate of report #: ";
pub const ASSIGN_TITLE: &str = " Assign to ";
pub const STATE_TITLE: &str = " Move to state ";
pub const REASON_TITLE: &str = " Invalid because ";
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

pub fn store_error(e: &str) -> String {
    format!("database: {e}")
}

pub const NO_IMAP: &str = "sync off: the config has no [imap] section";
pub const SYNC_NOT_BUILT: &str = "IMAP sync is not in this build yet";
pub const DEMO_GREETING: &str =
    "Demo mailbox loaded into a temporary database. ? shows the keys, q quits.";
pub const NOBODY: &str = "nobody";
pub const REPORTER_ANSWERED: &str = "the reporter answered";
pub const WHY_CLASS: &str = "Why the classifier said so";
pub const AUDIT_LOG: &str = "Audit log";

pub fn thread_title(n: usize) -> String {
    match n {
        1 => "Thread (1 item)".to_string(),
        n => format!("Thread ({n} items)"),
    }
}
pub const NOT_A_TERMINAL: &str =
    "the desk needs a terminal: run secdesk in one, or use `secdesk list` (`secdesk demo --list` for the demo)";
