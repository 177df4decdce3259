//! Every user-facing string of the desk, in one place: tab names, prompts, status messages.
//! Strings built from data take the data as arguments; nothing here reads state. The words
//! for replies (`reply`) and for held posts (`held`) sit in child files, re-exported here, so
//! every string is still `tui::text::NAME`.

use crate::core::model::InvalidReason;

mod held;
mod reply;

pub use held::*;
pub use reply::*;

pub const APP_TITLE: &str = "secdesk";
pub const LOADING: &str = "loading…";
pub const EMPTY_QUEUE: &str = "Nothing here. Tab switches queues, / searches.";
pub const NO_REPORT: &str = "No report under the cursor.";
pub const NOTHING_TO_UNDO: &str = "Nothing to undo.";
// A key pressed where it means nothing (T in the report view): where it works.
pub const ON_QUEUE: &str = "on the queue (q goes back to it)";
pub const ON_REPORT: &str = "in the report view (Enter opens one)";
pub const ON_TRIAGE: &str = "on the queue and in the report view";
pub const ON_PREVIEW: &str = "on a reply's or a reject's preview";
pub const ON_STATS: &str = "on the stats screen (T)";
pub const ON_HELD: &str = "on the held screen (H)";
pub const ON_OTHER: &str = "on another screen";

pub fn key_elsewhere(key: &str, what: &str, place: &str) -> String {
    format!("{key}: {what} — works {place}, not here")
}

/// Ends a status line too long for the screen: the message log has it whole.
pub const STATUS_CUT: &str = " L shows all";
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
/// Said after the order on a queue that keeps the spam it holds at its end (Needs triage:
/// the verdicts the classifier was unsure of, marked `spam??` in the class column).
pub const SPAM_LAST: &str = ", spam?? last";

/// A queue's order as the status line names it: `sort` ([`SORT_AGE`] or
/// [`SORT_DEADLINE`]), and that the spam comes last when the queue puts it there.
pub fn queue_order(sort: &str, spam_last: bool) -> String {
    let last = if spam_last { SPAM_LAST } else { "" };
    format!("{sort}{last}")
}
pub const STATS_TITLE: &str = "Stats";
pub const THREAD_IN: &str = "reporter";
pub const THREAD_OUT: &str = "our reply";
pub const THREAD_TEAM: &str = "team member";
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

/// After a sweep: how many of its reports were near-copies of mail the model had already
/// learned under that class, so learned once (core::classify::campaign); empty for none.
pub fn near_copies(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " (1 near-copy of mail already learned: counted once)".into(),
        n => format!(" ({n} near-copies of mail already learned: counted once)"),
    }
}

pub fn undo_hint() -> &'static str {
    " — u undoes"
}

/// Told after a refused undo: what the next `u` takes back, if anything.
pub fn next_undo(label: Option<&str>) -> String {
    match label {
        Some(label) => format!(" — the next u undoes: {label}"),
        None => " — nothing older to undo".to_string(),
    }
}

pub fn undone(what: &str) -> String {
    format!("Undone: {what}")
}

/// The status line while a sync round runs on mailboxes `what` ("INBOX").
pub fn syncing(what: &str) -> String {
    if what.is_empty() {
        "syncing…".to_string()
    } else {
        format!("syncing {what}…")
    }
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
/// The greeting of `secdesk demo --db FILE`: the demo is kept in FILE, not thrown away.
pub fn demo_greeting_in(file: &str) -> String {
    format!(
        "Demo mailbox loaded into {}, kept there. ? shows the keys, q quits.",
        crate::core::sanitize::terminal_line(file)
    )
}
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

/// The weekly chart's title within `width` cells; `zone` is `UTC` or the IANA name of
/// `[stats] time_zone`. A long zone name drops the list of classes, never the zone.
pub fn weekly_intake(zone: &str, width: usize) -> String {
    intake_title("Weekly", zone, "weeks · m: monthly", width)
}

/// The monthly chart's title within `width` cells.
pub fn monthly_intake(zone: &str, width: usize) -> String {
    intake_title("Monthly", zone, "months · m: weekly", width)
}

fn intake_title(what: &str, zone: &str, tail: &str, width: usize) -> String {
    let full = format!(" {what} intake by class (spam, invalid, valid), {zone} {tail} ");
    if full.chars().count() <= width {
        full
    } else {
        format!(" {what} intake, {zone} {tail} ")
    }
}
pub const RESPONSE_TITLE: &str = " Median response vs target, share met ";

pub fn overdue_title(n: usize) -> String {
    format!(" Overdue ({n}) ")
}

/// The overdue list's title when not all of them show: which do, and the keys for the rest.
/// `listed` of the `total` overdue are listed (the most overdue first); when that is not all
/// of them, the title says so, so that j/k is not expected to reach the rest. The longest
/// wording that fits `width` (the box's, borders included), else the shortest.
pub fn overdue_title_part(
    first: usize,
    last: usize,
    listed: usize,
    total: usize,
    width: usize,
) -> String {
    let wordings = match (last + 1 - first < listed, listed < total) {
        (true, false) => vec![
            format!(" Overdue ({first}-{last} of {total}, j/k) "),
            format!(" Overdue {first}-{last}/{total} "),
        ],
        (true, true) => vec![
            format!(" Overdue ({first}-{last} of the {listed} most overdue of {total}, j/k) "),
            format!(" Overdue ({first}-{last} of the top {listed} of {total}, j/k) "),
            format!(" Overdue {first}-{last}/{listed} of {total} "),
        ],
        (false, _) => vec![
            format!(" Overdue (the {listed} most overdue of {total}) "),
            format!(" Overdue (top {listed} of {total}) "),
        ],
    };
    let fits = |w: &&String| w.chars().count() + 2 <= width;
    let pick = wordings.iter().find(fits).or(wordings.last());
    pick.cloned().unwrap_or_default()
}

pub const BAD_SIGNATURE_TITLE: &str = " ⚠ BAD PGP SIGNATURE ";
pub const BAD_SIGNATURE_BANNER: &str = "!!! BAD PGP SIGNATURE on a message below: it does not verify; do not trust its signed text !!!";

/// The `d` picker's mark on a report the classifier finds similar.
pub fn similar_mark(score: f64) -> String {
    format!("≈{:.0}% ", score * 100.0)
}

pub const SIMILAR_HINT: &str = "d offers them first";

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

/// The editor failed on the advisory form: it is kept as it was before the editor opened.
pub fn advisory_editor_failed(e: &str) -> String {
    format!("{e}; the advisory form was not saved (A opens it again)")
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

/// A report left the queue (changed by a sync or another desk) while a menu or question
/// was open for it.
pub fn left_the_queue(id: i64) -> String {
    format!("#{id} left this queue meanwhile (a sync or another desk changed it): its menu is closed and nothing was done; the cursor is on the report after it")
}

/// The sync worker's line after a round.
pub fn sync_round(
    new: usize,
    replies_sent: usize,
    replies_resent: usize,
    replies_failed: &[String],
    gap: Option<&str>,
    overwritten: &[String],
    renumbered: &[String],
) -> String {
    let mut line = sync_done(new);
    // First: the member believes a report is theirs that no longer is.
    if let Some(first) = overwritten.first() {
        line = format!("{first}; {line}");
        if overwritten.len() > 1 {
            line.push_str(&format!(
                " ({} more of your changes replaced, see their logs)",
                overwritten.len() - 1
            ));
        }
    }
    if replies_sent > 0 {
        line.push_str(&format!(", {replies_sent} queued reply(ies) sent"));
    }
    if replies_resent > 0 {
        line.push_str(&format!(
            " ({replies_resent} sent again: {})",
            crate::core::outbox::RESENT_WHY
        ));
    }
    if let Some(last) = replies_failed.last() {
        line.push_str(&format!(
            ", {} reply(ies) still queued ({last})",
            replies_failed.len()
        ));
    }
    for r in renumbered {
        line.push_str(&format!("; {r}"));
    }
    if let Some(gap) = gap {
        line.push_str(&format!("; sync incomplete, mail missing: {gap}"));
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

/// A report another member has taken, as the verdict's question counts it.
pub fn taken_by(who: &str) -> String {
    format!("taken by {}", crate::core::team::event::short_actor(who))
}

/// Taking over (or assigning) a report another member has taken.
pub fn take_over(id: i64, who: &str, to: &str, me: &str) -> String {
    let who = crate::core::team::event::short_actor(who);
    if to.eq_ignore_ascii_case(me) {
        format!("#{id} is taken by {who}: take it over? y/N")
    } else {
        format!(
            "#{id} is taken by {who}: assign it to {}? y/N",
            crate::core::team::event::short_actor(to)
        )
    }
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

/// An undo refused because someone changed the report after the change being undone.
pub fn undo_stale(id: i64, by: &str, at: &str) -> String {
    format!("cannot undo on #{id}: {by} changed it at {at}, after you; change it back by hand (S, a, v…)")
}

/// A failed read or write in the desk's words: the CLI's hint (`secdesk list`) means nothing
/// where the queue is on screen, and a store error names the store file, as the CLI's do.
pub fn triage_error(e: &crate::core::triage::TriageError, path: &std::path::Path) -> String {
    match e {
        crate::core::triage::TriageError::NoSuchReport(id) => no_such_report(*id),
        e => crate::core::store::describe_error(e, path).unwrap_or_else(|| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::overdue_title_part;

    /// The stats screen lists the 50 most overdue: with more overdue than that, its title
    /// says so, so that j/k is not expected to reach the rest.
    #[test]
    fn the_overdue_title_says_when_not_every_overdue_report_is_listed() {
        assert_eq!(
            overdue_title_part(1, 4, 13, 13, 80),
            " Overdue (1-4 of 13, j/k) "
        );
        assert_eq!(
            overdue_title_part(47, 50, 50, 130, 80),
            " Overdue (47-50 of the 50 most overdue of 130, j/k) "
        );
        assert_eq!(
            overdue_title_part(1, 50, 50, 130, 80),
            " Overdue (the 50 most overdue of 130) "
        );
        // A box too small for any row still has a title (no arithmetic underflow).
        assert!(overdue_title_part(1, 0, 3, 3, 80).contains("of 3"));
    }

    /// A claim of this member that another's concurrent claim replaced leads the round's
    /// status line: the member believed the report was theirs.
    #[test]
    fn a_change_replaced_by_another_members_leads_the_round_line() {
        let lost = [
            "report #5: bo's change of its coordinator (who takes it), made at the same time as yours, won on every desk".to_string(),
            "report #6: bo's change of its state, made at the same time as yours, won on every desk".to_string(),
        ];
        let line = super::sync_round(1, 0, 0, &[], None, &lost, &[]);
        assert!(line.starts_with("report #5: bo's change"), "{line}");
        assert!(line.contains("(1 more of your changes replaced"), "{line}");
        assert!(!super::sync_round(1, 0, 0, &[], None, &[], &[]).contains("replaced"));
    }

    /// In a narrow box (the stats screen's right half at 95 to 120 columns) the title was
    /// cut mid-word, losing "of 130" and the keys: now a shorter wording that fits.
    #[test]
    fn the_overdue_title_keeps_its_counts_in_a_narrow_box() {
        for width in [30, 40, 48, 55] {
            for (first, last, listed, total) in
                [(47, 50, 50, 130), (1, 50, 50, 130), (3, 9, 13, 13)]
            {
                let t = overdue_title_part(first, last, listed, total, width);
                assert!(t.chars().count() + 2 <= width, "{width}: {t:?}");
                assert!(t.contains(&total.to_string()), "{width}: {t:?}");
            }
        }
        assert_eq!(
            overdue_title_part(47, 50, 50, 130, 50),
            " Overdue (47-50 of the top 50 of 130, j/k) "
        );
        assert_eq!(
            overdue_title_part(47, 50, 50, 130, 30),
            " Overdue 47-50/50 of 130 "
        );
    }
}
