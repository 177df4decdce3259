//! `secdesk check [FILE] [--json]`: is the store (or a backup at FILE) whole, private, secdesk's, are
//! its references intact, and does every raw message unpack? Reads only
//! (`core::store::inspect`). Exit 0 when all is whole, 1 when the file or a message is
//! damaged, with what to do. Also names the mail a sync saw on the server and could not
//! store yet, which is no damage to the file and leaves the status as it is.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::output::counted;
use crate::core::sanitize::terminal_line;
use crate::core::store::file::Identity;
use crate::core::store::inspect::{inspect, Inspection};

use super::Context;

/// At most this many problems are listed per kind.
const LIMIT: usize = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A store file to check instead of the configured one (e.g. a backup).
    pub file: Option<PathBuf>,
    /// Print one JSON object instead (the same exit status).
    #[arg(long)]
    pub json: bool,
    /// Also exit 1 while mail the server announced is not stored yet (for monitoring:
    /// `secdesk check --strict || alert`). Without it, unstored mail is named and the exit
    /// status is the store file's alone.
    #[arg(long)]
    pub strict: bool,
}

/// `check --json`: what the text says, as fields. `messages` is null when the raw messages
/// were not read back (a damaged file is not read further).
#[derive(serde::Serialize)]
struct CheckJson<'a> {
    store: String,
    mode: String,
    private: bool,
    owner: &'static str,
    schema_version: i64,
    known_version: i64,
    pages: i64,
    bytes: i64,
    integrity_ok: bool,
    damage: &'a [String],
    broken_references: &'a [String],
    messages: Option<MessagesJson<'a>>,
    /// Mail a sync saw on the server and could not store yet (asked for again by the next
    /// sync): informational, no part of `whole`.
    unstored: UnstoredJson,
    /// Everything checked and whole: exit 0.
    whole: bool,
}

#[derive(serde::Serialize)]
struct UnstoredJson {
    count: usize,
    /// The first ones, by mailbox and UID.
    listed: Vec<UnstoredUid>,
}

#[derive(serde::Serialize)]
struct UnstoredUid {
    mailbox: String,
    uidvalidity: u32,
    /// 0: the server's counts show mail that no listed UID names.
    uid: u32,
    reason: String,
    attempts: u32,
    /// RFC 3339, UTC; null when the store's time does not read as one.
    last_tried: Option<String>,
}

#[derive(serde::Serialize)]
struct MessagesJson<'a> {
    checked: usize,
    damaged: usize,
    /// The first damaged ones, by message and report.
    damaged_listed: &'a [String],
    /// Why they could not be read back at all, when they could not.
    unreadable: Option<&'a str>,
}

fn print_json(found: &Inspection) -> anyhow::Result<ExitCode> {
    let messages_read = found.damage.is_empty();
    let whole = messages_read && found.raw_unreadable.is_none() && found.raw_damaged == 0;
    super::output::print_json(&CheckJson {
        store: found.path.display().to_string(),
        mode: format!("{:04o}", found.mode),
        private: found.is_private(),
        owner: match found.identity {
            Identity::Ours => "secdesk",
            Identity::Unmarked => "unmarked",
            Identity::New => "empty",
        },
        schema_version: found.schema_version,
        known_version: found.known_version,
        pages: found.pages,
        bytes: found.bytes,
        integrity_ok: found.damage.is_empty(),
        damage: &found.damage,
        broken_references: &found.broken_references,
        messages: messages_read.then(|| MessagesJson {
            checked: found.raw_checked,
            damaged: found.raw_damaged,
            damaged_listed: &found.raw_damage,
            unreadable: found.raw_unreadable.as_deref(),
        }),
        unstored: UnstoredJson {
            count: found.unstored_count,
            listed: found
                .unstored
                .iter()
                .map(|m| UnstoredUid {
                    mailbox: m.mailbox.clone(),
                    uidvalidity: m.uidvalidity,
                    uid: m.uid,
                    reason: m.reason.clone(),
                    attempts: m.attempts,
                    last_tried: m.last_tried.map(crate::core::store::timestamp),
                })
                .collect(),
        },
        whole,
    })?;
    if whole {
        return Ok(ExitCode::SUCCESS);
    }
    // The exit status's line, as every failing command gives one: the JSON says the rest.
    let why = if !found.damage.is_empty() {
        "it is damaged (see damage in the JSON); recover what it holds with `secdesk backup NEW_FILE`".to_string()
    } else if found.raw_unreadable.is_some() {
        "its raw messages could not be read back (see messages.unreadable in the JSON)".to_string()
    } else {
        format!(
            "{} of its raw messages cannot be unpacked (see messages.damaged_listed in the JSON)",
            found.raw_damaged
        )
    };
    eprintln!(
        "secdesk: error: the store {} is not whole: {why}",
        terminal_line(&found.path.display().to_string())
    );
    Ok(ExitCode::FAILURE)
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let given = args.file.is_some();
    let path = match args.file {
        Some(f) => f,
        None => ctx.config()?.store_path(),
    };
    ctx.remember_store(&path);
    if !path.exists() {
        // Named where it came from: the command line, or the config.
        let whence = if given {
            "check the file name given"
        } else {
            "check the path ([store] path in the config)"
        };
        anyhow::bail!("there is no store at {}: {whence}", path.display());
    }
    let found = inspect(&path, LIMIT)?;
    let code = if args.json {
        print_json(&found)?
    } else {
        print_text(&path, &found)?
    };
    if args.strict && found.unstored_count > 0 && code == ExitCode::SUCCESS {
        eprintln!(
            "secdesk: error: mail the server announced is not stored yet ({} under \"server mail\"{}); `secdesk sync` asks for it again",
            counted(found.unstored_count, "gap", "gaps"),
            if args.json { ", unstored in the JSON" } else { "" }
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(code)
}

/// The text `check` prints, and its exit status (the store's, not the unstored mail's).
fn print_text(path: &std::path::Path, found: &Inspection) -> anyhow::Result<ExitCode> {
    let shown = terminal_line(&path.display().to_string());
    let mut out = std::io::stdout().lock();
    writeln!(out, "store       {shown}")?;
    if found.is_private() {
        writeln!(out, "mode        {:04o}, private", found.mode)?;
    } else {
        writeln!(
            out,
            "mode        {:04o}, readable by others: the next other secdesk command on it takes the others' access away (or run `chmod go= {shown}`)",
            found.mode
        )?;
    }
    let owner = match found.identity {
        Identity::Ours => "secdesk store",
        Identity::Unmarked => "secdesk store from before the mark (marked on next open)",
        Identity::New => "empty (secdesk creates its schema on first use)",
    };
    writeln!(
        out,
        "owner       {owner}, schema version {} of {}",
        found.schema_version, found.known_version
    )?;
    writeln!(
        out,
        "size        {} pages, {:.1} MB",
        found.pages,
        found.bytes as f64 / 1e6
    )?;
    if found.damage.is_empty() {
        writeln!(out, "integrity   ok")?;
    } else {
        writeln!(out, "integrity   DAMAGED:")?;
        for p in &found.damage {
            writeln!(out, "  {}", terminal_line(p))?;
        }
    }
    if found.broken_references.is_empty() {
        writeln!(out, "references  ok")?;
    } else {
        writeln!(out, "references  rows referring to rows that are gone:")?;
        for b in &found.broken_references {
            writeln!(out, "  {}", terminal_line(b))?;
        }
        writeln!(
            out,
            "  (an outbox reply whose report is gone is never sent: the next `secdesk outbox --retry` or sync marks it failed; discard it with `secdesk outbox --discard ID`)"
        )?;
    }
    unstored(&mut out, found)?;
    if found.damage.is_empty() {
        return raw_messages(&mut out, found);
    }
    writeln!(
        out,
        "\nthe store is damaged; secdesk refuses changes to it (and opens it read-only, when SQLite can read it at all) until it is replaced. To recover:\n\
         1. `secdesk backup NEW_FILE` salvages every readable row into a new store\n\
         2. `secdesk check NEW_FILE` checks the copy\n\
         3. stop every desk, move {shown} (and its -wal and -shm files) away, and move NEW_FILE to {shown}\n\
         4. `secdesk sync` fetches again any mail the copy lacks"
    )?;
    Ok(ExitCode::FAILURE)
}

/// Names the mail a sync saw listed on the server and could not store: the sync named it
/// when it ran, this says it again for whoever looks later.
fn unstored(out: &mut impl Write, found: &Inspection) -> anyhow::Result<()> {
    if found.unstored_count == 0 {
        writeln!(out, "server mail every message the syncs listed is stored")?;
        return Ok(());
    }
    writeln!(
        out,
        "server mail {} gap(s) between what the server announced and what is stored (each sync asks again):",
        found.unstored_count
    )?;
    for m in &found.unstored {
        let what = match m.uid {
            0 => "the server's counts show mail no listed UID names".to_string(),
            uid => format!("UID {uid}"),
        };
        // A UID a sync ended before asking for has no try yet: its time is when it was
        // recorded, not a last try.
        let when = if m.attempts == 0 { "recorded" } else { "last" };
        let last = m
            .last_tried
            .map(|t| format!(", {when} {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        let tries = match m.attempts {
            0 => "not asked for yet".to_string(),
            1 => "tried once".to_string(),
            n => format!("tried {n} times"),
        };
        writeln!(
            out,
            "  mailbox \"{}\" {what}: {tries}{last}: {}",
            terminal_line(&m.mailbox),
            terminal_line(&m.reason)
        )?;
    }
    if found.unstored_count > found.unstored.len() {
        writeln!(
            out,
            "  ... and {} more",
            found.unstored_count - found.unstored.len()
        )?;
    }
    Ok(())
}

/// Reports the raw messages read back: all whole (exit 0), or which cannot be unpacked
/// (exit 1: the file is sound, but those messages' text is lost from it).
fn raw_messages(out: &mut impl Write, found: &Inspection) -> anyhow::Result<ExitCode> {
    if let Some(why) = &found.raw_unreadable {
        // Not "all whole": nothing was read back.
        writeln!(
            out,
            "messages    NOT CHECKED: the raw messages could not be read back ({}); run `secdesk check` again, and if it says the same, recover what the store holds with `secdesk backup NEW_FILE`",
            terminal_line(why)
        )?;
        return Ok(ExitCode::FAILURE);
    }
    if found.raw_damaged == 0 {
        writeln!(
            out,
            "messages    {} raw messages read back, all whole",
            found.raw_checked
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "messages    {} of {} raw messages DAMAGED (they cannot be unpacked):",
        found.raw_damaged, found.raw_checked
    )?;
    for line in &found.raw_damage {
        writeln!(out, "  {}", terminal_line(line))?;
    }
    if found.raw_damaged > found.raw_damage.len() {
        writeln!(
            out,
            "  ... and {} more",
            found.raw_damaged - found.raw_damage.len()
        )?;
    }
    writeln!(
        out,
        "\nthe file itself is sound and secdesk works with it, but these messages' text and \
         headers are lost from the store: their reports open with a note, and their other \
         messages still show, search and learn. The mail is still in the mailbox it came from \
         (secdesk never deletes it); read it there."
    )?;
    Ok(ExitCode::FAILURE)
}
