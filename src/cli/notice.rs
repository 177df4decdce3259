//! `secdesk notice ID --template embargo --to LIST`: the embargoed notification to
//! distributors, from a template, through the reply's preview, outbox and send. Once sent,
//! each recipient is added to the advisory's `notified` with the time. A report the team
//! rejected (spam, invalid, duplicate) gets no notice: refused before any editor, preview or
//! send, as `export` refuses it.

use std::io::IsTerminal;
use std::process::ExitCode;

use chrono::Utc;

use crate::core::advisory::{self, mail, Change, Notified, Value};
use crate::core::config::Config;
use crate::core::reply::buffer::parse_addresses;
use crate::core::reply::message::format_mailbox;
use crate::core::reply::{came_encrypted, Draft};
use crate::core::store::{timestamp, Store};

use super::change::{self, VersionCheck};
use super::{reply, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report whose advisory to send as a notice (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// The notice's template: embargo (or a file of that name in the config's templates/).
    #[arg(long, short, value_name = "NAME", default_value = "embargo")]
    pub template: String,
    /// Who is told (a distribution list such as linux-distros@vs.openwall.org); repeat for
    /// several.
    #[arg(long, value_name = "ADDRESS", required = true)]
    pub to: Vec<String>,
    /// Do not open $VISUAL/$EDITOR: send the notice as composed.
    #[arg(long)]
    pub no_edit: bool,
    /// Send without the preview and confirmation (the recipients are still printed).
    #[arg(long, short)]
    pub yes: bool,
    /// Send the notice readable even though the report came PGP-encrypted (the notice quotes
    /// it) and the notice cannot be encrypted (no key for a recipient, or `[pgp]
    /// encrypt_replies` off). Without it such a notice is refused with `--yes`, and asked
    /// about at the preview.
    #[arg(long)]
    pub unencrypted: bool,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.template != "embargo" {
        return Err(super::exit::usage(format!(
            "no notice template '{}': the notice template is embargo",
            args.template
        )));
    }
    // Addresses typed on the command line are checked as the command line is: exit 2.
    for value in &args.to {
        parse_addresses("--to", value).map_err(|e| super::exit::usage(e.to_string()))?;
    }
    let (config, mut store) = ctx.store()?;
    // A missing report is named as such; a rejected one gets no notice (before any editor,
    // preview or send).
    let report = crate::core::triage::writes::load(store.conn(), args.id)?;
    mail::refuse_rejected_notice(args.id, report.state.state)?;
    let a = advisory::load(store.conn(), args.id)?;
    let facts = mail::facts(store.conn(), args.id)?;
    let text = mail::embargo_notice(args.id, &a, &facts, &config.identity.name, &config.dir())?;
    if let Some(e) = advisory::embargo::embargo(&a, Utc::now()) {
        for w in &e.warnings {
            eprintln!("secdesk: warning: report #{}: {w}", args.id);
        }
    }
    let how = Sending {
        what: reply::What::Notice,
        no_edit: args.no_edit,
        yes: args.yes,
        report_encrypted: came_encrypted(&store, args.id)?,
        unencrypted: args.unencrypted,
    };
    let code = send_mail(&config, &mut store, args.id, &args.to, text, how)?;
    if code == ExitCode::SUCCESS {
        let now = Utc::now();
        let changes: Vec<Change> = args
            .to
            .iter()
            .map(|who| {
                Change::Set(
                    advisory::Key::Notified,
                    Value::Notified(Notified {
                        who: who.clone(),
                        at: timestamp(now),
                    }),
                )
            })
            .collect();
        let req = change::request(&config, &args.version_check);
        let applied = advisory::apply(&mut store, &req, args.id, &changes)?;
        change::confirm(args.id, "notified recorded", applied.version);
    } else {
        eprintln!(
            "secdesk: report #{}: not recorded in notified, as the notice was not sent; once it is, record it with `secdesk advisory {} --set notified=WHO`",
            args.id, args.id
        );
    }
    Ok(code)
}

/// How [`send_mail`] sends.
pub(super) struct Sending {
    pub what: reply::What,
    /// Do not open the editor.
    pub no_edit: bool,
    /// No preview, no confirmation.
    pub yes: bool,
    /// The report came PGP-encrypted and the mail quotes it: it goes out readable only with
    /// the user's word (`unencrypted`, or a yes to the preview's `UNENCRYPTED` question).
    pub report_encrypted: bool,
    /// `--unencrypted`.
    pub unencrypted: bool,
}

/// Sends an advisory mail (`notice`, `export --format announce`) to `to` through the
/// reply's preview, outbox and send. Not sent without a confirmation or `--yes`.
pub(super) fn send_mail(
    config: &Config,
    store: &mut Store,
    id: i64,
    to: &[String],
    text: mail::MailText,
    how: Sending,
) -> anyhow::Result<ExitCode> {
    let Sending {
        what,
        no_edit,
        yes,
        report_encrypted,
        unencrypted,
    } = how;
    let interactive = std::io::stdin().is_terminal();
    if !yes && !interactive {
        anyhow::bail!(
            "not sending the mail for report #{id}: it needs a confirmation and stdin is not a terminal; pass --yes to send without one"
        );
    }
    if !no_edit {
        crate::mailio::editor::check_usable().map_err(|e| {
            anyhow::anyhow!(
                "not sending the mail for report #{id}: {e}; pass --no-edit to send it as composed, or run it in a terminal"
            )
        })?;
    }
    if config.smtp.is_none() {
        return Err(crate::mailio::smtp::SmtpSetupError::NotConfigured {
            path: config.source.clone(),
        }
        .into());
    }
    let mut addressed = Vec::new();
    for value in to {
        for m in parse_addresses("--to", value)? {
            addressed.push(format_mailbox(m.name.as_deref(), &m.addr));
        }
    }
    let draft = Draft {
        report_id: id,
        template: None,
        state_change: None,
        from: format_mailbox(Some(&config.identity.name), &config.identity.email),
        to: addressed,
        cc: Vec::new(),
        subject: crate::core::reply::flatten(&text.subject),
        in_reply_to: None,
        references: Vec::new(),
        body: format!("{}\n", text.body.trim_end()),
        other_senders: Vec::new(),
        report_encrypted,
        unencrypted_ok: false,
    };
    let how = reply::Settle {
        edit: !no_edit,
        yes,
        interactive,
        named: Vec::new(),
        current: None,
        unencrypted,
        what,
    };
    let Some((draft, built)) = reply::settle_with(config, draft, how)? else {
        eprintln!("secdesk: mail for report #{id} not sent");
        return Ok(ExitCode::FAILURE);
    };
    reply::send_and_report(config, store, &draft, &built)
}
