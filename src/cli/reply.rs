//! `secdesk reply ID`: compose a reply from a template, edit it, preview it, confirm, then
//! queue it in the outbox and send it.
//!
//! Exit status: 0 when sent, 75 (EX_TEMPFAIL) when kept queued after a transient failure
//! (or perhaps delivered, and looked for on the server again by itself), 77 (EX_NOPERM) when
//! kept queued because the SMTP server refused the login, 1 when refused or cancelled,
//! perhaps delivered with only a person to settle it, or not recorded (see `cli::exit`).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use chrono::Utc;

use crate::core::config::Config;
use crate::core::model::{InvalidReason, ReportState};
use crate::core::outbox;
use crate::core::reply::buffer::parse_addresses;
use crate::core::reply::buffer::{apply_buffer, to_buffer, with_error_note};
use crate::core::reply::message::{build, domain_of, new_message_id, BuiltMessage};
use crate::core::reply::{check_recipient_limit, compose_to, state_change, Draft, ReplyError};
use crate::core::sanitize::{terminal_line, terminal_text};
use crate::core::store::Store;
use crate::mailio::delivery::{self, Delivery, Hold, Outcome};
use crate::mailio::gpg::{self, Sealing};

use super::Context;
use crate::mailio::editor;

/// Exit status when the reply is safe in the outbox but not yet sent.
pub const EXIT_QUEUED: u8 = super::exit::TEMPORARY;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report to reply to (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// Start from this template (acknowledge, needs-more-info, not-a-vulnerability,
    /// third-party, duplicate, fixed-and-disclosed, or one in the config's templates/).
    #[arg(long, short, value_name = "NAME")]
    pub template: Option<String>,
    /// Do not open $VISUAL/$EDITOR: send the template as composed.
    #[arg(long)]
    pub no_edit: bool,
    /// Send without the preview and confirmation (for scripts). The final recipients are
    /// printed all the same.
    #[arg(long, short)]
    pub yes: bool,
    /// Address the reply to ADDRESS instead of the reporter (repeat for several). The only
    /// way to answer another sender of the thread; addresses named here may exceed
    /// `[reply] max_recipients` without a confirmation.
    #[arg(long, value_name = "ADDRESS")]
    pub to: Vec<String>,
    /// Send the reply readable even though the report came PGP-encrypted and the reply
    /// cannot be encrypted (no key for a recipient, or `[pgp] encrypt_replies` off). Without
    /// it such a reply is refused with `--yes`, and asked about at the preview.
    #[arg(long)]
    pub unencrypted: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let interactive = std::io::stdin().is_terminal();
    if !args.yes && !interactive {
        anyhow::bail!(
            "not sending the reply to report #{}: it needs a confirmation and stdin is not a terminal; pass --yes to send without one",
            args.id
        );
    }
    if !args.no_edit {
        editor::check_usable().map_err(|e| {
            anyhow::anyhow!(
                "not replying to report #{}: {e}; pass --no-edit (with --template NAME) to send a template as composed, or run it in a terminal",
                args.id
            )
        })?;
    }
    let (config, mut store) = ctx.store()?;
    if config.smtp.is_none() {
        // Say so before the user writes a reply that could not leave.
        return Err(crate::mailio::smtp::SmtpSetupError::NotConfigured {
            path: config.source.clone(),
        }
        .into());
    }
    if !no_unsettled_reply(&store, args.id, interactive && !args.yes)? {
        eprintln!("secdesk: reply to report #{} not started", args.id);
        return Ok(ExitCode::FAILURE);
    }
    let draft = compose_to(&config, &store, args.id, args.template.as_deref(), &args.to)
        .map_err(flag_error)?;
    let mut named = Vec::new();
    for value in &args.to {
        named.extend(
            parse_addresses("--to", value)
                .map_err(flag_error)?
                .into_iter()
                .map(|m| m.addr.to_lowercase()),
        );
    }
    let how = Settle {
        edit: !args.no_edit,
        yes: args.yes,
        interactive,
        named,
        current: Some(state_change::current(&store, args.id)?),
        unencrypted: args.unencrypted,
        what: What::Reply,
    };
    // Other desks see "replying" until this ends (docs/team.md); a second replier is warned.
    let confirm = |p: &str| match interactive && !args.yes {
        true => ask(p, false),
        false => Ok(true),
    };
    let Some(started) = super::team::start_reply(&config, &mut store, args.id, confirm)? else {
        eprintln!("secdesk: reply to report #{} not started", args.id);
        return Ok(ExitCode::FAILURE);
    };
    let settled = settle_with(&config, draft, how);
    let Ok(Some((draft, built))) = settled else {
        super::team::end_reply(&config, &mut store, &started, args.id, false)?;
        settled?;
        eprintln!("secdesk: reply to report #{} not sent", args.id);
        return Ok(ExitCode::FAILURE);
    };
    let outcome = send_and_report(&config, &mut store, &draft, &built);
    if let Err(e) = super::team::end_reply(&config, &mut store, &started, args.id, outcome.is_ok())
    {
        // The delivery's outcome (said above, or the error returned below) stands: running
        // `reply` again would write a second reply, so the store's usual "run the command
        // again" from this later failure (often the same full disk) must not be the last
        // word, nor hide what became of the reply.
        let line = crate::core::store::describe_error_no_rerun(e.as_ref(), store.path())
            .unwrap_or_else(|| format!("{e:#}"));
        let said = if outcome.is_ok() { "above" } else { "below" };
        warn(&format!(
            "note: what became of the reply is said {said}; recording that this reply ended failed too, so other desks may still show it as in progress ({line}). Do not run `secdesk reply` again for this"
        ));
    }
    outcome
}

/// A reply error that a flag the user typed caused (a `--template` there is no template
/// by, a `--to` that is no address) is a wrong command line (exit status 2).
fn flag_error(e: ReplyError) -> anyhow::Error {
    use crate::core::reply::TemplateError;
    match e {
        ReplyError::Template(TemplateError::NotFound { .. } | TemplateError::BadName { .. })
        | ReplyError::BadAddress { field: "--to", .. } => super::exit::usage(e.to_string()),
        e => e.into(),
    }
}

/// Whether a new reply to `report_id` may go: none of its replies is queued, still being
/// sent or unconfirmed (the reporter may have it, or get it any moment). With one, `ask`
/// asks; else a queued one is only warned of, and the reply is refused for the others.
fn no_unsettled_reply(store: &Store, report_id: i64, ask_first: bool) -> anyhow::Result<bool> {
    let Some(row) = outbox::unsettled_for_report(store, report_id)?.pop() else {
        return Ok(true);
    };
    let what = match row.state {
        // Not sent yet, but it goes at the next delivery.
        outbox::OutboxState::Queued => format!(
            "report #{report_id} already has a reply queued to go: outbox #{} ({}); `secdesk outbox --edit {}` changes it, `secdesk outbox --discard {}` drops it",
            row.id,
            row.last_error.as_deref().unwrap_or("not attempted yet"),
            row.id,
            row.id,
        ),
        state => {
            let next = match state {
                outbox::OutboxState::Uncertain => format!(
                    "`secdesk outbox --resend {}` sends it again if it surely did not arrive",
                    row.id
                ),
                _ => "once its attempt is over, `secdesk outbox --retry` looks for it on the server"
                    .to_string(),
            };
            format!(
                "report #{report_id} already has a reply that may have reached the reporter: outbox #{} is {} ({}); `secdesk outbox` shows it, and {next}",
                row.id,
                row.state,
                row.last_error.as_deref().unwrap_or("its attempt is still running"),
            )
        }
    };
    // A queued one has not reached anyone: with --yes (a script) the new one goes too, said.
    if !ask_first && row.state == outbox::OutboxState::Queued {
        warn(&what);
        return Ok(true);
    }
    if !ask_first {
        anyhow::bail!("not replying: {what}");
    }
    warn(&what);
    ask("Write another reply anyway? [y/N] ", false)
}

/// How a draft is settled.
pub struct Settle {
    /// Open the editor first.
    pub edit: bool,
    /// No preview, no confirmation (the recipients are still printed).
    pub yes: bool,
    /// stdin is a terminal: problems can be fixed in the editor.
    pub interactive: bool,
    /// Addresses named on the command line (`--to`), lowercase: a reply to these (and the
    /// team address) needs no confirmation however many they are.
    pub named: Vec<String>,
    /// The report's state and invalid reason now, so the preview says what sending will
    /// really do to it (`state_change::plan`), not what the template asks for.
    pub current: Option<(ReportState, Option<InvalidReason>)>,
    /// `--unencrypted`: the user agreed to send it readable though the report came encrypted.
    pub unencrypted: bool,
    /// What is sent, as the refusals and the preview's question name it.
    pub what: What,
}

/// What [`settle_with`] settles: a reply to the reporter, a notice about the report to
/// distributors (`secdesk notice`, which quotes the report all the same), or the advisory's
/// announcement (`secdesk export --format announce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Reply,
    Notice,
    Announcement,
}

impl What {
    fn noun(self) -> &'static str {
        match self {
            What::Reply => "reply",
            What::Notice => "notice",
            What::Announcement => "announcement",
        }
    }

    /// "the reply to report #5", "the notice for report #5".
    fn of(self, id: i64) -> String {
        match self {
            What::Reply => format!("the reply to report #{id}"),
            What::Notice | What::Announcement => format!("the {} for report #{id}", self.noun()),
        }
    }

    /// How it could go out encrypted instead.
    fn how_to_encrypt(self, id: i64) -> String {
        match self {
            What::Reply => {
                format!("import the reporter's key first (`secdesk pgp import-key {id}`)")
            }
            What::Notice | What::Announcement => "add each recipient's public key to the team keyring (`[pgp] gnupg_home`) with `encrypt_replies = \"when-possible\"` first".to_string(),
        }
    }
}

/// Edits (when asked), builds and confirms a draft until it is ready to send.
/// `None` when the user cancels.
pub fn settle(
    config: &Config,
    draft: Draft,
    edit: bool,
    yes: bool,
    interactive: bool,
) -> anyhow::Result<Option<(Draft, BuiltMessage)>> {
    let how = Settle {
        edit,
        yes,
        interactive,
        named: Vec::new(),
        current: None,
        unencrypted: false,
        what: What::Reply,
    };
    settle_with(config, draft, how)
}

/// [`settle`], as `how` says.
pub fn settle_with(
    config: &Config,
    mut draft: Draft,
    how: Settle,
) -> anyhow::Result<Option<(Draft, BuiltMessage)>> {
    let Settle {
        mut edit,
        yes,
        interactive,
        named,
        current,
        unencrypted,
        what,
    } = how;
    let mut buffer = to_buffer(&draft);
    loop {
        if edit {
            let text =
                editor::edit_text(&buffer).map_err(|e| anyhow::anyhow!("{e}: nothing was sent"))?;
            match apply_buffer(&draft, &text) {
                Ok(d) => draft = d,
                Err(ReplyError::EmptyBody) => return Ok(None),
                Err(e) if interactive => {
                    buffer = with_error_note(&text, &e);
                    if ask(&format!("{e}. Edit again? [Y/n] "), true)? {
                        continue;
                    }
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            }
            buffer = to_buffer(&draft);
        }
        let message_id = new_message_id(domain_of(&config.identity.email));
        let built = match build(&draft, &message_id, Utc::now()) {
            Ok(b) => b,
            Err(e) if interactive && !matches!(e, ReplyError::Format(_)) => {
                buffer = with_error_note(&buffer, &e);
                if ask(&format!("{e}. Edit the reply? [Y/n] "), true)? {
                    edit = true;
                    continue;
                }
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let over = over_limit(config, &draft, &built, &named);
        note_other_senders(&draft);
        // The keyring is asked once, for the preview and for this check: a report that came
        // encrypted gets a reply that would not be only with the user's word.
        let sealing = gpg::sealing(config, &built.recipients);
        let readable = draft
            .report_encrypted
            .then(|| sealing.readable_because())
            .flatten();
        if yes {
            if let Some(e) = over {
                return Err(e.into());
            }
            if let Some(why) = &readable {
                refuse_readable_unless(unencrypted || draft.unencrypted_ok, &draft, why, what)?;
                draft.unencrypted_ok = true;
            }
            print_recipients(&draft, &built, &sealing)?;
            return Ok(Some((draft, built)));
        }
        print_preview(&draft, &built, &sealing, current)?;
        let prompt = send_prompt(&draft, &built, over.as_ref(), readable.as_deref(), what);
        match choose(&prompt)? {
            'y' => {
                // Saying yes to that question is the user's word to send it readable.
                draft.unencrypted_ok |= readable.is_some();
                return Ok(Some((draft, built)));
            }
            'e' => edit = true,
            _ => return Ok(None),
        }
    }
}

/// More recipients than `[reply] max_recipients`, unless every one was named on the
/// command line (`named`) or is the team.
fn over_limit(
    config: &Config,
    draft: &Draft,
    built: &BuiltMessage,
    named: &[String],
) -> Option<ReplyError> {
    let team = config.team_address().map(|t| t.trim().to_lowercase());
    let all_named = !named.is_empty()
        && built
            .recipients
            .iter()
            .map(|r| r.to_lowercase())
            .all(|r| named.contains(&r) || team.as_ref() == Some(&r));
    match all_named {
        true => None,
        false => check_recipient_limit(config, draft).err(),
    }
}

/// `--yes` to a report that came encrypted, with a reply (or notice) that would go out
/// readable (`why`): refused unless the user said so (`agreed`: `--unencrypted`, or an
/// earlier yes).
fn refuse_readable_unless(
    agreed: bool,
    draft: &Draft,
    why: &str,
    what: What,
) -> anyhow::Result<()> {
    if agreed {
        return Ok(());
    }
    let id = draft.report_id;
    anyhow::bail!(
        "not sending {}: the report came encrypted and this {} would go out readable ({why}); {}, or pass --unencrypted to send it readable on purpose",
        what.of(id),
        what.noun(),
        what.how_to_encrypt(id),
    )
}

/// The preview's question, after the warnings that make it more than "send?": more
/// recipients than `[reply] max_recipients`, and a readable reply to an encrypted report.
fn send_prompt(
    draft: &Draft,
    built: &BuiltMessage,
    over_limit: Option<&ReplyError>,
    readable: Option<&str>,
    what: What,
) -> String {
    let noun = what.noun();
    if let Some(why) = readable {
        warn(&format!(
            "report #{} came ENCRYPTED, and this {noun} (with its quote) would go out READABLE: {why}",
            draft.report_id
        ));
    }
    let unencrypted = if readable.is_some() {
        " UNENCRYPTED"
    } else {
        ""
    };
    match over_limit {
        Some(e) => {
            warn(&e.to_string());
            format!(
                "Send{unencrypted} to all {} addresses? [y]es, [e]dit, [n]o: ",
                built.recipients.len()
            )
        }
        None => format!("Send this {noun}{unencrypted}? [y]es, [e]dit, [n]o: "),
    }
}

/// Queues the reply, attempts it, and says what happened.
pub fn send_and_report(
    config: &Config,
    store: &mut Store,
    draft: &Draft,
    built: &BuiltMessage,
) -> anyhow::Result<ExitCode> {
    let id = outbox::queue(store, draft, built, &config.identity.email, Utc::now())?;
    // The reply is in the outbox now: whatever fails next, `reply` again would write a
    // second one, so the way on is the outbox's.
    let delivery = delivery::deliver_one(config, store, id).map_err(|e| {
        // The store's own line (a full disk …) would otherwise replace this whole message.
        let e = crate::core::store::describe_error_no_rerun(&e, store.path())
            .unwrap_or_else(|| e.to_string());
        anyhow::anyhow!(
            "reply to report #{} is kept in the outbox as #{id}, and what became of it could not be recorded: {e}; once that is fixed, `secdesk outbox` shows it and `secdesk outbox --retry` settles it (do not run `secdesk reply` again for it)",
            draft.report_id
        )
    })?;
    Ok(report_delivery(&delivery, &built.message_id))
}

/// Prints a sent reply's outcome: how it went, the report's new state, and warnings.
fn print_sent(r: i64, outcome: &Outcome, message_id: &str) {
    let Outcome::Sent {
        already_on_server,
        resent,
        states,
        state_error,
        sent_copy_error,
    } = outcome
    else {
        return;
    };
    let how = if *already_on_server {
        "was already on the server (not sent again)".to_string()
    } else if *resent {
        format!("sent again ({})", outbox::RESENT_WHY)
    } else {
        "sent".to_string()
    };
    println!("reply to report #{r} {how}: Message-ID <{message_id}>");
    if let Some(last) = states.last() {
        println!("report #{r} is now {last}");
    }
    if let Some(e) = state_error {
        warn(&format!(
            "the reply was sent, but the template's state change was not made: {e}"
        ));
    }
    if let Some(e) = sent_copy_error {
        warn(&format!("the reply was sent, but {e}"));
    }
}

/// Prints one delivery's outcome (data on stdout, trouble on stderr) and the exit status.
pub fn report_delivery(d: &Delivery, message_id: &str) -> ExitCode {
    let r = d.report_id;
    match &d.outcome {
        Outcome::Sent { .. } => print_sent(r, &d.outcome, message_id),
        Outcome::Queued {
            error,
            next_attempt_at,
            hold,
        } => {
            let login_refused = *hold == Hold::LoginRefused;
            let next = if *hold == Hold::Config {
                "fix [smtp] in the config, then `secdesk outbox --retry` sends it (or it is retried from"
            } else if login_refused {
                "fix the login, then `secdesk outbox --retry` sends it (or it is retried from"
            } else {
                "it is retried from"
            };
            warn(&format!(
                "reply to report #{r} is queued as outbox #{} and not yet sent: {error}; {next} {}{}",
                d.outbox_id,
                delivery::when(next_attempt_at),
                if login_refused || *hold == Hold::Config {
                    ")"
                } else {
                    " or now with `secdesk outbox --retry`"
                }
            ));
        }
        Outcome::Failed { error } => warn(&format!("reply to report #{r} was refused: {error}")),
        Outcome::Unverified { error, .. } => warn(&format!(
            "reply to report #{r} (outbox #{}): {error}",
            d.outbox_id
        )),
        Outcome::UncertainUnrecorded { error } => warn(&format!(
            "reply to report #{r}: outbox #{} may have reached the server and is kept unfinished; do not send it again (Message-ID <{message_id}>; nor run `secdesk reply` again for it): it is never resent without first being looked for on the server, or without your word. What happened: {error}",
            d.outbox_id
        )),
        Outcome::NotRecorded { error, .. } => warn(&format!("reply to report #{r}: {error}")),
        Outcome::SentUnrecorded { error } => warn(&format!(
            "reply to report #{r} (outbox #{}) WAS sent (Message-ID <{message_id}>), but recording that failed: {error}. Do not send it again: the outbox keeps it as unfinished, and it is never resent without first being looked for on the server, or without your word",
            d.outbox_id
        )),
        // Not sent by this command: another delivery still has it, or it was edited or
        // discarded meanwhile.
        Outcome::Skipped { why } => warn(&format!(
            "reply to report #{r} was not sent by this command: {why}; `secdesk outbox` shows where it is"
        )),
    }
    ExitCode::from(delivery_status(&d.outcome))
}

/// The exit status one delivery stands for (README "Exit status"): 0 sent; 75 kept queued
/// after a transient failure, perhaps delivered (uncertain) and looked for on the server
/// again by itself, or not sent by this command (0 would claim a send nobody confirmed);
/// 77 queued behind a refused login; 78 queued behind a config to fix; 1 refused for good,
/// perhaps delivered with nothing to look for (a person must `--resend` or `--discard` it:
/// running again never settles it), or not recorded (75 when the store was only busy).
pub fn delivery_status(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Sent { .. } => 0,
        Outcome::Queued { hold, .. } => match hold {
            Hold::Temporary => EXIT_QUEUED,
            Hold::LoginRefused => super::exit::LOGIN_REFUSED,
            Hold::Config => super::exit::CONFIG,
        },
        Outcome::Unverified {
            needs_person: true, ..
        } => 1,
        Outcome::Unverified { .. } | Outcome::Skipped { .. } => EXIT_QUEUED,
        Outcome::NotRecorded {
            temporary: true, ..
        } => EXIT_QUEUED,
        Outcome::Failed { .. }
        | Outcome::SentUnrecorded { .. }
        | Outcome::UncertainUnrecorded { .. }
        | Outcome::NotRecorded { .. } => 1,
    }
}

fn warn(text: &str) {
    eprintln!("secdesk: {}", terminal_line(text));
}

/// The final recipient list (the SMTP envelope), printed before a `--yes` send.
fn print_recipients(d: &Draft, built: &BuiltMessage, sealing: &Sealing) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "reply to report #{} goes to {}",
        d.report_id,
        recipient_list(built)
    )?;
    if let Some(line) = sealing.line() {
        writeln!(out, "{}", terminal_line(&line))?;
    }
    Ok(())
}

/// `N address(es): a, b, c`, terminal-safe.
fn recipient_list(built: &BuiltMessage) -> String {
    let n = built.recipients.len();
    format!(
        "{n} address{}: {}",
        if n == 1 { "" } else { "es" },
        terminal_line(&built.recipients.join(", "))
    )
}

/// Says who else wrote in the thread and is not addressed: answering them is a choice.
fn note_other_senders(d: &Draft) {
    if d.other_senders.is_empty() {
        return;
    }
    let list = d.other_senders.join(", ");
    warn(&format!(
        "note: another sender wrote in report #{}'s thread and is not addressed: {list}; to answer them, name them with --to",
        d.report_id
    ));
}

/// What will be sent, every part made terminal-safe (the quote holds a stranger's text).
fn print_preview(
    d: &Draft,
    built: &BuiltMessage,
    sealing: &Sealing,
    current: Option<(ReportState, Option<InvalidReason>)>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "From:    {}", terminal_line(&d.from))?;
    writeln!(out, "To:      {}", terminal_line(&d.to.join(", ")))?;
    if !d.cc.is_empty() {
        writeln!(out, "Cc:      {}", terminal_line(&d.cc.join(", ")))?;
    }
    writeln!(out, "Sent to: {}", recipient_list(built))?;
    if let Some(line) = sealing.line() {
        writeln!(out, "{}", terminal_line(&line))?;
    }
    writeln!(out, "Subject: {}", terminal_line(&d.subject))?;
    if let Some(parent) = &d.in_reply_to {
        writeln!(out, "In reply to <{}>", terminal_line(parent))?;
    }
    match (&d.state_change, current) {
        (Some(change), Some((state, reason))) => {
            let plan = state_change::plan(state, reason, *change);
            writeln!(out, "After sending, {}", plan.describe(d.report_id))?;
        }
        (Some(change), None) => {
            let reason = change.reason.map(|r| format!(" ({r})")).unwrap_or_default();
            writeln!(
                out,
                "After sending, report #{} becomes {}{reason}",
                d.report_id, change.state
            )?;
        }
        (None, _) => {}
    }
    writeln!(out, "{}", "-".repeat(72))?;
    write!(out, "{}", terminal_text(&d.body))?;
    writeln!(out, "{}", "-".repeat(72))?;
    Ok(())
}

fn read_answer(prompt: &str) -> anyhow::Result<String> {
    let mut err = std::io::stderr().lock();
    write!(err, "{prompt}")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_lowercase())
}

pub(super) fn ask(prompt: &str, default: bool) -> anyhow::Result<bool> {
    let answer = read_answer(prompt)?;
    Ok(match answer.chars().next() {
        Some('y') => true,
        Some('n') => false,
        _ => default,
    })
}

fn choose(prompt: &str) -> anyhow::Result<char> {
    Ok(read_answer(prompt)?.chars().next().unwrap_or('n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply this command did not send never exits 0 ("sent"): before, a reply another
    /// delivery still held, or one discarded meanwhile, exited 0.
    #[test]
    fn a_reply_this_command_did_not_send_does_not_exit_as_sent() {
        for why in [
            "outbox #1 was discarded meanwhile, so it is not sent",
            "outbox #1 was just taken up by a delivery",
        ] {
            let d = Delivery {
                outbox_id: 1,
                report_id: 1,
                outcome: Outcome::Skipped { why: why.into() },
            };
            assert_eq!(report_delivery(&d, "m@x"), ExitCode::from(EXIT_QUEUED));
        }
    }

    /// An uncertain reply only a person can settle (no team copy to look for) exits 1: it
    /// exited 75, and a cron job retrying on 75 looped on it forever without an alert. One
    /// that is looked for again by itself stays 75.
    #[test]
    fn an_uncertain_reply_waiting_for_a_person_is_not_run_again_later() {
        let unverified = |needs_person| Outcome::Unverified {
            error: "the server may have this reply".into(),
            needs_person,
        };
        assert_eq!(delivery_status(&unverified(true)), 1);
        assert_eq!(delivery_status(&unverified(false)), EXIT_QUEUED);
        let busy = Outcome::NotRecorded {
            error: "the store is busy".into(),
            temporary: true,
        };
        assert_eq!(delivery_status(&busy), EXIT_QUEUED);
    }
}
