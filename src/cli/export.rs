//! `secdesk export ID --format osv|cve|ghsa|announce [--out FILE]`: a report's advisory as an
//! OSV record, a CVE JSON 5.1 record, the body of GitHub's create-repository-advisory request,
//! or the security-announce mail (through the reply's preview, outbox and send; with `--out`
//! the mail is written to FILE instead).
//!
//! A report missing what the format needs is refused with the list of missing fields; a
//! rejected report, or one under embargo for the formats that publish, is refused with the
//! reason and the way out (`core::advisory::export::refuse_unpublishable`).

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::core::advisory::export::{self, cve, ghsa, osv, Format, Meta};
use crate::core::advisory::{self, mail};
use crate::core::sanitize::terminal_line;
use crate::core::store::timestamp;

use super::{notice, output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report whose advisory to export (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// osv, cve, ghsa or announce.
    #[arg(long, value_name = "FORMAT", value_parser = |s: &str| s.parse::<Format>())]
    pub format: Format,
    /// Write to FILE instead of stdout (for announce: write the mail instead of sending it).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// announce: do not open $VISUAL/$EDITOR.
    #[arg(long)]
    pub no_edit: bool,
    /// announce: send without the preview and confirmation.
    #[arg(long, short)]
    pub yes: bool,
    /// A draft for the team's review, allowed under embargo: OSV gets the id it would get
    /// but neither id nor published time is fixed; announce needs --out and is not sent.
    #[arg(long)]
    pub draft: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    // An export's report must exist: a mistyped `[store] path` creates no store.
    let config = ctx.config()?;
    let path = ctx.existing_store(&config)?;
    let mut store = ctx.open_store(&path, crate::core::store::Store::open)?;
    let id = args.id;
    // A missing report is named as such, not as an advisory missing every field.
    let report = crate::core::triage::writes::load(store.conn(), id)?;
    let a = advisory::load(store.conn(), id)?;
    let now = Utc::now();
    let state = report.state.state;
    let published = advisory::osv_published(store.conn(), id)?;
    check_draft(&args, &a, now)?;
    export::refuse_unpublishable(id, args.format, state, published, args.draft, &a, now)?;
    let mut meta = Meta {
        id,
        config: &config.advisory,
        osv_id: format!("{}-{}-0", config.advisory.id_prefix, now.format("%Y")),
        published: timestamp(now),
        modified: timestamp(now),
        // A rejected report gets this far only for the OSV record published before.
        withdrawn: if export::is_rejected(state) {
            Some(advisory::moved_into(store.conn(), id, state)?.unwrap_or_else(|| timestamp(now)))
        } else {
            None
        },
    };
    let value = match args.format {
        Format::Osv => {
            // Check first, so a refused export does not use up an id.
            osv::record(&a, &meta)?;
            let prefix = &config.advisory.id_prefix;
            let (osv_id, published) = if args.draft {
                advisory::osv_id_draft(store.conn(), id, prefix, now)?
            } else {
                advisory::osv_id(&mut store, id, prefix, now)?
            };
            let changed = advisory::modified(store.conn(), id)?.unwrap_or_default();
            meta.modified = changed.max(published.clone());
            meta.osv_id = osv_id;
            meta.published = published;
            osv::record(&a, &meta)?
        }
        Format::Cve => cve::record(&a, &meta)?,
        Format::Ghsa => {
            let (body, notes) = ghsa::body(&a, &meta)?;
            for n in notes {
                eprintln!("secdesk: note: report #{id}: {}", terminal_line(&n));
            }
            body
        }
        Format::Announce => {
            export::refuse_two_ends(id, Format::Announce, &a)?;
            let text = mail::announce(id, &a, &config.identity.name, &config.dir())?;
            if let Some(path) = &args.out {
                output::write_whole(path, &format!("Subject: {}\n\n{}", text.subject, text.body))?;
                return Ok(ExitCode::SUCCESS);
            }
            let to = config.advisory.announce_to.clone().ok_or_else(|| {
                anyhow::anyhow!(
                    "not announcing report #{id}: set `announce_to` under [advisory] in {} (the security-announce list's address), or pass --out FILE",
                    config.source.display()
                )
            })?;
            // The announcement quotes nothing of the report: it goes out as written.
            let how = notice::Sending {
                what: super::reply::What::Announcement,
                no_edit: args.no_edit,
                yes: args.yes,
                report_encrypted: false,
                unencrypted: false,
            };
            return notice::send_mail(&config, &mut store, id, &[to], text, how);
        }
    };
    match &args.out {
        Some(path) => {
            let text = format!("{}\n", serde_json::to_string_pretty(&value)?);
            output::write_whole(path, &text)?
        }
        // On a terminal, characters that would act on it or hide text are escaped (a value
        // stored before fields were checked for them); piped, the record is exact.
        None => output::print_json(&value)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `--draft`: an announcement draft goes to a file, never out; under embargo, a note says the
/// document must not be published yet.
fn check_draft(args: &Args, a: &advisory::Advisory, now: DateTime<Utc>) -> anyhow::Result<()> {
    if !args.draft {
        return Ok(());
    }
    let id = args.id;
    if args.format == Format::Announce && args.out.is_none() {
        return Err(super::exit::usage(format!(
            "report #{id}: a draft announcement is written, not sent: add --out FILE"
        )));
    }
    if let Some(until) = export::embargo_ahead(a, now) {
        eprintln!(
            "secdesk: note: report #{id} is under embargo until {}: this is a draft for the \
             team's review; do not publish it before then",
            until.format("%Y-%m-%d %H:%M UTC")
        );
    }
    Ok(())
}
