//! `secdesk advisory ID`: show or change a report's advisory fields (issue 15).
//!
//! `--set KEY=VALUE` (repeatable; on credits, references and notified it adds), `--unset KEY`,
//! `--edit` for the TOML form in `$EDITOR`, `--json` for scripts. Every change is one
//! audited action (`advisory:KEY` events), guarded by `--if-version` like the triage commands.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use chrono::Utc;
use serde_json::json;

use crate::core::advisory::{self, embargo, form, Advisory, Change, Key};
use crate::core::sanitize::terminal_line;
use crate::core::store::Store;
use crate::core::triage::Request;

use super::change::{self, VersionCheck};
use super::{output, Context};
use crate::mailio::editor;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report whose advisory to show or set (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// Set a field: KEY=VALUE (repeat for several). On credits, references and notified it
    /// adds an entry. Keys: component, package, repo, introduced, fixed, last_affected, cvss,
    /// cwe, cve, ghsa, summary, details, references, credits (NAME:TYPE), embargo_until,
    /// notified (WHO or WHO:DATE).
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Clear a field (applied before the --set ones, so `--unset credits --set credits=…`
    /// replaces the list).
    #[arg(long, value_name = "KEY")]
    pub unset: Vec<String>,
    /// Edit the fields as a TOML form in $VISUAL/$EDITOR; checked on save.
    #[arg(long, conflicts_with_all = ["set", "unset"])]
    pub edit: bool,
    /// Print the fields (after any change) as a JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let now = Utc::now();
    let mut changes = Vec::new();
    for key in &args.unset {
        changes.push(Change::Unset(
            key.parse::<Key>().map_err(super::exit::usage)?,
        ));
    }
    for set in &args.set {
        changes.push(advisory::parse_set(set, now).map_err(|e| {
            super::exit::usage(format!("report #{}: {e}; nothing was changed", args.id))
        })?);
    }
    // Values are checked first (a wrong one is the command line's, exit 2). Showing the
    // fields only reads; a change needs a store that exists (a report in it).
    let (config, mut store) = if changes.is_empty() && !args.edit {
        ctx.read_store()?
    } else {
        let config = ctx.config()?;
        let path = ctx.existing_store(&config)?;
        let store = ctx.open_store(&path, crate::core::store::Store::open)?;
        (config, store)
    };
    let req = change::request(&config, &args.version_check);
    if args.edit {
        if !edit(&mut store, &req, args.id)? {
            return Ok(ExitCode::FAILURE);
        }
    } else if !changes.is_empty() {
        let applied = advisory::apply(&mut store, &req, args.id, &changes)?;
        confirm(&applied);
        warn_embargo(&applied.after, args.id);
    }
    let a = advisory::load(store.conn(), args.id)?;
    let version = crate::core::triage::writes::load(store.conn(), args.id)?.version;
    if args.json {
        output::print_json(&to_json(args.id, version, &a))?;
    } else if changes.is_empty() && !args.edit {
        print_fields(&mut std::io::stdout().lock(), args.id, &a)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--json` object: the fields, the report and version, the CVSS score and the embargo.
pub fn to_json(id: i64, version: i64, a: &Advisory) -> serde_json::Value {
    let mut v = serde_json::to_value(a).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("report_id".into(), json!(id));
        o.insert("version".into(), json!(version));
        o.insert("severity".into(), json!(a.severity()));
        o.insert("embargo".into(), json!(embargo::embargo(a, Utc::now())));
    }
    v
}

fn confirm(applied: &crate::core::triage::Applied<Advisory>) {
    let changed: Vec<&str> = Key::ALL
        .iter()
        .filter(|k| applied.before.field_json(**k) != applied.after.field_json(**k))
        .map(|k| k.as_str())
        .collect();
    if changed.is_empty() {
        change::unchanged(applied.report_id, "as asked", applied.version);
    } else {
        change::confirm(
            applied.report_id,
            &format!("advisory {} changed", changed.join(", ")),
            applied.version,
        );
    }
}

/// Runs the form in the editor until it checks, the user gives up, or (without a terminal)
/// the first failure; a rejected form is kept in a file, never lost. True when saved.
fn edit(store: &mut Store, req: &Request, id: i64) -> anyhow::Result<bool> {
    let current = advisory::load(store.conn(), id)?;
    // Refuses a missing report before opening the editor; the form is saved only onto the
    // version it was made from, so a teammate's change meanwhile is not overwritten.
    let loaded = crate::core::triage::writes::load(store.conn(), id)?.version;
    let req = req
        .clone()
        .if_version(req.expected_version.or(Some(loaded)));
    editor::check_usable().map_err(|e| {
        anyhow::anyhow!(
            "report #{id}: {e}; use --set KEY=VALUE and --unset KEY instead, or run it in a terminal"
        )
    })?;
    let mut text = form::render(id, &current);
    loop {
        let edited = editor::edit_text(&text)
            .map_err(|e| anyhow::anyhow!("{e}: the advisory was not changed"))?;
        match form::parse(&edited, Utc::now()) {
            Ok(a) => {
                return match advisory::replace(store, &req, id, &a) {
                    Ok(applied) => {
                        confirm(&applied);
                        warn_embargo(&applied.after, id);
                        Ok(true)
                    }
                    Err(e) => {
                        let kept = keep(id, &edited)?;
                        Err(anyhow::anyhow!(
                            "{e}; your form is kept in {}",
                            kept.display()
                        ))
                    }
                };
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!(
                        "secdesk: advisory form of report #{id}, {}",
                        terminal_line(&e.to_string())
                    );
                }
                text = form::with_errors(&edited, &errors);
                if std::io::stdin().is_terminal()
                    && super::reply::ask("Edit the form again? [Y/n] ", true)?
                {
                    continue;
                }
                let kept = keep(id, &text)?;
                eprintln!(
                    "secdesk: report #{id}: nothing was changed; your form is kept in {}",
                    kept.display()
                );
                return Ok(false);
            }
        }
    }
}

/// The embargo's warnings on stderr, when it has any.
fn warn_embargo(a: &Advisory, id: i64) {
    for w in embargo::embargo(a, Utc::now())
        .map(|e| e.warnings)
        .unwrap_or_default()
    {
        eprintln!("secdesk: warning: report #{id}: {}", terminal_line(&w));
    }
}

fn keep(id: i64, text: &str) -> anyhow::Result<std::path::PathBuf> {
    let mut file = tempfile::Builder::new()
        .prefix(&format!("secdesk-advisory-{id}-"))
        .suffix(".toml")
        .tempfile()?;
    file.write_all(text.as_bytes())?;
    let (_, path) = file.keep()?;
    Ok(path)
}

/// The advisory in a few lines under the report view (`show`): ids, severity, and the
/// embargo countdown with its warnings. Nothing when no field is set.
pub fn print_summary(out: &mut impl Write, store: &Store, id: i64) -> anyhow::Result<()> {
    let a = advisory::load(store.conn(), id)?;
    if a == Advisory::default() {
        return Ok(());
    }
    let ids: Vec<&str> = [&a.cve, &a.ghsa]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let severity = a
        .severity()
        .map(|s| format!("  severity {} {} (CVSS {})", s.score, s.rating, s.version))
        .unwrap_or_default();
    writeln!(
        out,
        "\nadvisory: {}{severity}  (`secdesk advisory {id}` for all fields)",
        terminal_line(&if ids.is_empty() {
            "-".into()
        } else {
            ids.join(", ")
        })
    )?;
    if let Some(e) = embargo::embargo(&a, Utc::now()) {
        writeln!(
            out,
            "embargo:  {} days left (until {})",
            e.days_left, e.until
        )?;
        for w in &e.warnings {
            writeln!(out, "warning:  {}", terminal_line(w))?;
        }
    }
    Ok(())
}

fn print_fields(out: &mut impl Write, id: i64, a: &Advisory) -> anyhow::Result<()> {
    writeln!(out, "report #{id} advisory")?;
    for key in Key::ALL {
        let value = match key {
            Key::Credits => a
                .credits
                .iter()
                .map(|c| format!("{} ({})", c.name, c.kind))
                .collect::<Vec<_>>()
                .join("; "),
            Key::Notified => a
                .notified
                .iter()
                .map(|n| format!("{} at {}", n.who, n.at))
                .collect::<Vec<_>>()
                .join("; "),
            Key::References => a.references.join(" "),
            k => a
                .field_json(k)
                .as_str()
                .map(str::to_string)
                .unwrap_or_default(),
        };
        let value = if value.is_empty() { "-".into() } else { value };
        writeln!(out, "  {:<14} {}", key.as_str(), terminal_line(&value))?;
    }
    if let Some(s) = a.severity() {
        writeln!(
            out,
            "  severity       {} {} (CVSS {})",
            s.score, s.rating, s.version
        )?;
    }
    if let Some(e) = embargo::embargo(a, Utc::now()) {
        writeln!(
            out,
            "  embargo        {} days left (until {})",
            e.days_left, e.until
        )?;
        for w in &e.warnings {
            writeln!(out, "  warning: {}", terminal_line(w))?;
        }
    }
    Ok(())
}
