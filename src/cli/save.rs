//! `secdesk save ID [--dir DIR]`: write a report's attachments to disk, safely.
//!
//! File names come from the sender, so only a cleaned last path component is used, files
//! are created new (never overwriting), and nothing is ever executed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::core::parse::attachments_with_bodies;
use crate::core::sanitize::{safe_file_name, split_extension, terminal_line};
use crate::core::store::{Store, StoreError};

use super::Context;
use crate::core::store::raw::RawMessage;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report whose attachments to save (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// The folder to save into (created if missing).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.read_store()?;
    let saved = save_attachments(&store, args.id, &args.dir)?;
    let mut out = std::io::stdout().lock();
    if saved.is_empty() {
        writeln!(out, "report #{} has no attachments", args.id)?;
    }
    for path in saved {
        writeln!(out, "saved {}", terminal_line(&path.display().to_string()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Saves every attachment of every message in report `id` into `dir`; returns the paths.
pub fn save_attachments(store: &Store, id: i64, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut stmt = store
        .conn()
        .prepare("SELECT raw FROM messages WHERE report_id = ?1 ORDER BY id")?;
    let raws: Vec<Vec<u8>> = stmt
        .query_map([id], |r| Ok(r.get::<_, RawMessage>(0)?.0))?
        .collect::<rusqlite::Result<_>>()?;
    if raws.is_empty() {
        return Err(StoreError::NoSuchReport(id).into());
    }
    let mut saved = Vec::new();
    for raw in raws {
        for (attachment, body) in attachments_with_bodies(&raw) {
            if saved.is_empty() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let fallback = format!("attachment-{}", saved.len() + 1);
            let name = safe_file_name(attachment.name.as_deref(), &fallback);
            let path = create_new(dir, &name, &body)?;
            saved.push(path);
        }
    }
    Ok(saved)
}

/// Creates `dir/name`, or `dir/stem-N.ext` when taken; never overwrites a file.
fn create_new(dir: &Path, name: &str, body: &[u8]) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    for n in 0..1000 {
        let candidate = if n == 0 {
            dir.join(name)
        } else {
            let (stem, ext) = split_extension(name);
            dir.join(format!("{stem}-{n}{ext}"))
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&candidate)
        {
            Ok(mut f) => {
                f.write_all(body)
                    .with_context(|| format!("cannot write {}", candidate.display()))?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create {}", candidate.display()))
            }
        }
    }
    anyhow::bail!(
        "too many files named {name} in {}: choose another --dir",
        dir.display()
    )
}
