//! `secdesk outbox`: replies not yet sent (queued, in an unfinished attempt, or refused)
//! and sent replies whose Sent copy is missing, with their errors. `--retry` attempts them
//! now; `--edit ID` reopens a queued or refused reply in the editor and sends it (see
//! `outbox::requeue_edited` for why a delivery running meanwhile is safe); `--resend ID`
//! sends an uncertain reply again on a person's word.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::core::config::Config;
use crate::core::outbox::{self, OutboxEntry, OutboxState};
use crate::core::reply::came_encrypted;
use crate::core::sanitize::terminal_line;
use crate::core::store::Store;
use crate::mailio::delivery::{self, DeliverOptions, Outcome};

use super::{exit, output, reply, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array instead of a table (with --retry: each reply's outcome too). Not
    /// with --edit, --discard or --resend, which say what they did in words.
    #[arg(long, conflicts_with_all = ["edit", "discard", "resend"])]
    pub json: bool,
    /// Attempt queued replies now, whatever their backoff, and file missing Sent copies;
    /// exits with the most urgent of the replies' statuses (78, 77, 1, 75, 0). An uncertain
    /// reply with no team copy to look for is 1: only --resend or --discard settles it.
    #[arg(long, conflicts_with_all = ["edit", "discard", "resend"])]
    pub retry: bool,
    /// Send an uncertain reply again (one the server may have taken, with nothing to show
    /// whether it arrived): only when you know the reporter did not get it.
    #[arg(long, value_name = "OUTBOX_ID", conflicts_with_all = ["edit", "discard"])]
    pub resend: Option<i64>,
    /// Edit a queued or refused reply in $VISUAL/$EDITOR, then send it (a reply a delivery
    /// took up meanwhile is left as it went).
    #[arg(long, value_name = "OUTBOX_ID", conflicts_with = "discard")]
    pub edit: Option<i64>,
    /// Give up on a queued, uncertain or refused reply (kept in the database as discarded).
    #[arg(long, value_name = "OUTBOX_ID")]
    pub discard: Option<i64>,
    /// With --edit: send without the preview and confirmation.
    #[arg(long, short, requires = "edit")]
    pub yes: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let writes = args.retry || args.edit.is_some() || args.discard.is_some();
    let (config, mut store) = if writes || args.resend.is_some() {
        ctx.store()?
    } else {
        ctx.read_store()?
    };
    if let Some(id) = args.discard {
        outbox::discard(&store, id)?;
        println!("outbox #{id} discarded");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(id) = args.resend {
        let message_id = outbox::get(&store, id)?.message_id;
        outbox::resend_by_hand(&store, id, chrono::Utc::now())?;
        let d = delivery::deliver_one(&config, &mut store, id)?;
        return Ok(reply::report_delivery(&d, &message_id));
    }
    if let Some(id) = args.edit {
        crate::mailio::editor::check_usable().map_err(|e| {
            anyhow::anyhow!("not editing outbox #{id}: {e}; run it in a terminal, or set $EDITOR")
        })?;
        let interactive = std::io::stdin().is_terminal();
        // Failed orphans first: a reply whose report is gone is not edited.
        outbox::fail_orphans(&store, Some(id))?;
        let row = outbox::get(&store, id)?;
        if !outbox::EDITABLE.contains(&row.state) {
            anyhow::bail!("{}", not_editable(&row));
        }
        let mut draft = outbox::draft(&store, id)?;
        // An encrypted message may have joined the report since the reply was written.
        draft.report_encrypted = came_encrypted(&store, draft.report_id)?;
        let Some((draft, built)) = reply::settle(&config, draft, true, args.yes, interactive)?
        else {
            eprintln!("secdesk: outbox #{id} left as it was");
            return Ok(ExitCode::FAILURE);
        };
        // Replaced only if no delivery took it up while the editor was open.
        let now = chrono::Utc::now();
        if let Err(e) = outbox::requeue_edited(&store, &row, &draft, &built, now) {
            return Err(match e {
                outbox::OutboxError::ChangedWhileEditing { .. } => {
                    anyhow::anyhow!("{e}; {}", keep_edited_text(&config, id, &draft.body))
                }
                e => e.into(),
            });
        }
        let d = delivery::deliver_one(&config, &mut store, id)?;
        return Ok(reply::report_delivery(&d, &built.message_id));
    }
    let mut code = 0;
    let mut attempts = Vec::new();
    if args.retry {
        let options = DeliverOptions::for_config(&config, true);
        for d in delivery::deliver_due(&config, &mut store, options)? {
            let now = outbox::get(&store, d.outbox_id)?;
            let done = retry_done(&d.outcome, now.state);
            if !args.json {
                reply::report_delivery(&d, &now.message_id);
            }
            let status = if done {
                0
            } else {
                reply::delivery_status(&d.outcome)
            };
            // Each reply's outcome counts, in whatever order they came (README "Exit status").
            code = exit::most_urgent(code, status);
            attempts.push(Attempt::of(&d, status));
        }
        // A reply another delivery is still sending is not sent yet either.
        if note_live_attempts(&store, options, !args.json)? > 0 {
            code = exit::most_urgent(code, reply::EXIT_QUEUED);
        }
    }
    let rows = outbox::pending(&store)?;
    if args.json && args.retry {
        output::print_json(&retried_rows(&store, rows, &attempts)?)?;
    } else if args.json {
        output::print_json(&rows)?;
    } else {
        print_table(&rows)?;
    }
    Ok(ExitCode::from(code))
}

/// What `--retry` did to one reply, for `--retry --json`.
#[derive(Debug, Clone)]
struct Attempt {
    outbox_id: i64,
    /// `sent`, `queued`, `refused` (for good: failed-permanent, or its report is gone),
    /// `uncertain`, `sent-unrecorded`, `uncertain-unrecorded`, `not-recorded` or
    /// `taken-elsewhere`.
    outcome: &'static str,
    /// What the server or the outbox said, when it was not simply sent.
    outcome_error: Option<String>,
    /// The status this reply alone would make the command exit with (README "Exit status").
    exit_status: u8,
}

impl Attempt {
    fn of(d: &delivery::Delivery, exit_status: u8) -> Attempt {
        let (outcome, error) = match &d.outcome {
            Outcome::Sent { .. } => ("sent", None),
            Outcome::Queued { error, .. } => ("queued", Some(error)),
            Outcome::Failed { error } => ("refused", Some(error)),
            Outcome::Unverified { error, .. } => ("uncertain", Some(error)),
            Outcome::SentUnrecorded { error } => ("sent-unrecorded", Some(error)),
            Outcome::UncertainUnrecorded { error } => ("uncertain-unrecorded", Some(error)),
            Outcome::NotRecorded { error, .. } => ("not-recorded", Some(error)),
            Outcome::Skipped { why } => ("taken-elsewhere", Some(why)),
        };
        Attempt {
            outbox_id: d.outbox_id,
            outcome,
            outcome_error: error.cloned(),
            exit_status,
        }
    }
}

/// One row of `--retry --json`: the outbox row as `outbox --json` lists it, and what this
/// run did to it (the three fields null when it was not attempted).
#[derive(Debug, serde::Serialize)]
struct RetriedRow {
    #[serde(flatten)]
    row: OutboxEntry,
    outcome: Option<&'static str>,
    outcome_error: Option<String>,
    exit_status: Option<u8>,
}

/// The rows still pending and those this run sent (state `sent`, no longer pending), by id,
/// each with its [`Attempt`]: every reply's outcome, not only the command's one status.
fn retried_rows(
    store: &Store,
    pending: Vec<OutboxEntry>,
    attempts: &[Attempt],
) -> anyhow::Result<Vec<RetriedRow>> {
    let mut rows = pending;
    for a in attempts {
        if !rows.iter().any(|r| r.id == a.outbox_id) {
            rows.push(outbox::get(store, a.outbox_id)?);
        }
    }
    rows.sort_by_key(|r| r.id);
    Ok(rows
        .into_iter()
        .map(|row| {
            let a = attempts.iter().find(|a| a.outbox_id == row.id).cloned();
            RetriedRow {
                row,
                outcome: a.as_ref().map(|a| a.outcome),
                exit_status: a.as_ref().map(|a| a.exit_status),
                outcome_error: a.and_then(|a| a.outcome_error),
            }
        })
        .collect())
}

/// Keeps the text a person edited for a reply that changed while the editor was open,
/// beside the store (private, never overwriting), and says where: their work is not lost.
fn keep_edited_text(config: &Config, id: i64, body: &str) -> String {
    let dir = config
        .store_path()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    match keep_in(&dir, &format!("outbox-{id}-edit-{stamp}"), body) {
        Ok(path) => format!("your edited text is kept in {}", path.display()),
        Err((path, e)) => format!(
            "your edited text could not be kept in {}: {e}",
            path.display()
        ),
    }
}

/// Most names tried for one kept text: `NAME.txt`, then `NAME-2.txt` … (two refused edits
/// of one reply within the same second must not take one file).
const KEEP_TRIES: u32 = 100;

/// Writes `body` to a new private file `dir/NAME.txt`, or `NAME-2.txt`, `NAME-3.txt` …
/// when that exists (`create_new`: an existing file is never touched). Returns its path,
/// or the last path tried and why it failed.
fn keep_in(
    dir: &Path,
    name: &str,
    body: &str,
) -> Result<std::path::PathBuf, (std::path::PathBuf, std::io::Error)> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut n = 1;
    loop {
        let path = match n {
            1 => dir.join(format!("{name}.txt")),
            n => dir.join(format!("{name}-{n}.txt")),
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
        match file {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < KEEP_TRIES => n += 1,
            Err(e) => return Err((path, e)),
            Ok(mut f) => {
                return match f.write_all(body.as_bytes()).and_then(|()| f.sync_all()) {
                    Ok(()) => Ok(path),
                    Err(e) => Err((path, e)),
                }
            }
        }
    }
}

/// Why `--edit` refuses `row`, and what to do instead.
fn not_editable(row: &OutboxEntry) -> String {
    let (id, r) = (row.id, row.report_id);
    let what = match row.state {
        outbox::OutboxState::Sending => format!(
            "an attempt is sending it now; once `secdesk outbox` shows it sent, follow it up with `secdesk reply {r}`, or, if it fails, edit it then"
        ),
        outbox::OutboxState::Uncertain => format!(
            "the server may have taken it already, so a changed copy could reach the reporter next to it; if it surely did not arrive, `secdesk outbox --discard {id}` and `secdesk reply {r}` write it anew"
        ),
        outbox::OutboxState::Sent => format!("follow it up with `secdesk reply {r}`"),
        outbox::OutboxState::Failed => format!(
            "report #{r} is gone, so it is never sent: drop it with `secdesk outbox --discard {id}`"
        ),
        outbox::OutboxState::Discarded => format!("`secdesk reply {r}` writes a new reply"),
        outbox::OutboxState::Queued | outbox::OutboxState::FailedPermanent => String::new(),
    };
    format!(
        "outbox #{id} is {}: only a queued or refused (failed-permanent) reply is edited; {what}",
        row.state
    )
}

/// Attempts the replies that are due, after a sync. Never fails the sync: the mail is
/// stored whatever happens here; problems are reported on stderr.
pub fn deliver_after_sync(config: &Config, store: &mut Store) {
    if config.smtp.is_none() {
        return;
    }
    match delivery::deliver_due(config, store, DeliverOptions::for_config(config, false)) {
        Ok(done) => {
            for d in done {
                let message_id = outbox::get(store, d.outbox_id)
                    .map(|r| r.message_id)
                    .unwrap_or_default();
                reply::report_delivery(&d, &message_id);
            }
        }
        Err(e) => eprintln!(
            "secdesk: the outbox could not be delivered: {}",
            terminal_line(&e.to_string())
        ),
    }
}

/// Whether `--retry` counts one delivery as done, given the reply's state once it is over
/// (`now`). Exit 0 means every due reply was sent or is rightly not due: sent by this run,
/// or, when another delivery or a person took it meanwhile (`Skipped`), sent or discarded
/// by now. A reply another delivery is still
/// sending, or one edited meanwhile and not sent yet, is not done, and the command exits 75
/// for it, as `reply` and `outbox --edit` do: run again later, it is settled then.
fn retry_done(outcome: &Outcome, now: OutboxState) -> bool {
    match outcome {
        Outcome::Sent { .. } => true,
        Outcome::Skipped { .. } => matches!(now, OutboxState::Sent | OutboxState::Discarded),
        _ => false,
    }
}

/// Says (when `say`) which replies `--retry` left alone because an attempt is still running
/// on them, and when they would count as interrupted; returns how many.
fn note_live_attempts(store: &Store, options: DeliverOptions, say: bool) -> anyhow::Result<usize> {
    let stale = chrono::Duration::from_std(options.stale_after).unwrap_or_default();
    let mut live = 0;
    for r in outbox::pending(store)? {
        if r.state != outbox::OutboxState::Sending {
            continue;
        }
        live += 1;
        if !say {
            continue;
        }
        let since = r.last_attempt_at.as_deref().unwrap_or_default();
        let until = crate::core::store::parse_timestamp(since)
            .map(|t| delivery::when(&crate::core::store::timestamp(t + stale)))
            .unwrap_or_default();
        eprintln!(
            "secdesk: outbox #{} was left alone: an attempt that began {} (this desk's sync, or another desk) is still sending it; it is taken as interrupted, and looked for on the server, from {until}",
            r.id,
            delivery::when(since)
        );
    }
    Ok(live)
}

fn print_table(rows: &[OutboxEntry]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if rows.is_empty() {
        writeln!(
            out,
            "the outbox is empty: every reply has been sent and filed"
        )?;
        return Ok(());
    }
    for r in rows {
        let status = match r.state {
            outbox::OutboxState::Queued if r.attempts > 0 => {
                format!("queued, retry from {}", delivery::when(&r.next_attempt_at))
            }
            outbox::OutboxState::Sent => "sent, Sent copy missing".to_string(),
            outbox::OutboxState::Sending => format!(
                "sending since {}",
                delivery::when(r.last_attempt_at.as_deref().unwrap_or_default())
            ),
            other => other.to_string(),
        };
        writeln!(
            out,
            "{:>4}  report #{:<5} {:<40}  attempts {}  {}",
            r.id,
            r.report_id,
            status,
            r.attempts,
            terminal_line(&r.subject)
        )?;
        let error = if r.state == outbox::OutboxState::Sent {
            r.sent_copy_error.as_ref()
        } else {
            r.last_error.as_ref()
        };
        if let Some(e) = error {
            writeln!(out, "      {}", terminal_line(e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `outbox --retry` exits 0 only when every due reply was sent or is rightly not due: a
    /// reply another delivery took between the listing and the claim, or one edited meanwhile,
    /// is not sent yet (it exited 0, while `reply` and `--edit` exit 75 for it).
    #[test]
    fn retry_counts_a_reply_taken_elsewhere_as_done_only_once_sent_or_dropped() {
        let skipped = Outcome::Skipped {
            why: "outbox #1 was just taken up by a delivery".into(),
        };
        for still in [
            OutboxState::Sending,
            OutboxState::Queued,
            OutboxState::Uncertain,
            OutboxState::FailedPermanent,
            OutboxState::Failed,
        ] {
            assert!(!retry_done(&skipped, still), "{still}");
        }
        for settled in [OutboxState::Sent, OutboxState::Discarded] {
            assert!(retry_done(&skipped, settled), "{settled}");
        }
        let sent = Outcome::Sent {
            already_on_server: false,
            resent: false,
            states: Vec::new(),
            state_error: None,
            sent_copy_error: None,
        };
        assert!(retry_done(&sent, OutboxState::Sent));
        let queued = Outcome::Queued {
            error: "421 busy".into(),
            next_attempt_at: "2026-12-03T16:00:00Z".into(),
            hold: delivery::Hold::Temporary,
        };
        assert!(!retry_done(&queued, OutboxState::Queued));
    }
}
