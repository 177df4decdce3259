//! The desk's words for held posts (Mailman moderation): the held queue, rejecting with a
//! reason, sweeping spam and each moderation outcome. Re-exported as `tui::text::*`.

pub const NO_HELD_POST: &str = "no held post here";
pub const HELD_NONE: &str = "No post is held.";
/// Above a gap of the listing on the held screen (`ListingGap`).
pub const HELD_NOT_SHOWN: &str = "NOT SHOWN:";
/// The last row of the listing's gaps when they are longer than a third of the held
/// screen: how many rows more, and where they are said whole.
pub fn held_gaps_cut(more: usize) -> String {
    format!("{HELD_NOT_SHOWN} … {more} rows more: `secdesk held` says them whole; moderate those entries in Mailman's web UI")
}
/// No post to show, but the listing has gaps (said above).
pub const HELD_NONE_SHOWN: &str = "No held post can be shown here (see above).";
pub const HELD_TITLE: &str =
    " Held posts (Mailman) · a accept · s discard as spam · z defer · r reject · S sweep spam ";
pub const HELD_TITLE_SHORT: &str = " Held posts (Mailman) ";
pub const REJECT_REASON_TITLE: &str = "Reject {} with the reason";
pub const OWN_REASON: &str = "own words (opens $EDITOR)";
pub const REJECT_CANCELLED: &str = "Reject cancelled: nothing was sent.";
pub const REJECT_EMPTY: &str = "Reject cancelled: the reason is empty; nothing was sent.";
pub const REJECT_TO: &str = "Mailed to";
pub const REJECT_POST: &str = "Post";
pub const REJECT_HELD: &str = "Held because";
pub const REJECT_FROM: &str = "Reason from";

/// The editor failed on a reject's reason; the preview is back when there was a reason.
pub fn reject_editor_failed(e: &str, preview_back: bool) -> String {
    if preview_back {
        format!("{e}; nothing was sent: the reason is as it was")
    } else {
        format!("{e}; the reject was not sent")
    }
}

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

pub fn swept(discarded: usize, already: usize, changed: usize) -> String {
    let changed = if changed > 0 {
        format!("; {changed} changed since the listing, left held: look at them again")
    } else {
        String::new()
    };
    format!(
        "swept: {discarded} held post{} discarded as spam (classifier trained); {already} already handled{changed}",
        if discarded == 1 { "" } else { "s" }
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

/// Mailman now gives another text for the post than the listing showed (another post's
/// under its Message-ID, or "Message content lost").
pub fn changed_since_listing(what: &str) -> String {
    format!("{what}: changed since the listing (Mailman now gives another text for it); nothing done, it stays held: look at it again")
}

pub fn held_failed(e: &str) -> String {
    format!("held queue: {e}")
}
