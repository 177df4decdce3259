//! `secdesk check [FILE]`: is the store (or a backup at FILE) whole, private, secdesk's, and
//! are its references intact? Reads only: nothing is tightened, marked or migrated here.
//! Exit 0 when the file is whole, 1 when it is damaged, with the steps to recover.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::ExitCode;

use rusqlite::{Connection, OpenFlags};

use crate::core::sanitize::terminal_line;
use crate::core::store::{file, StoreError, BUSY_TIMEOUT, MIGRATIONS};

use super::Context;

/// At most this many problems are listed per kind.
const LIMIT: usize = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A store file to check instead of the configured one (e.g. a backup).
    pub file: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let path = match args.file {
        Some(f) => f,
        None => ctx.config()?.store_path(),
    };
    ctx.remember_store(&path);
    if !path.exists() {
        anyhow::bail!(
            "there is no store at {}: check the path ([store] path in the config)",
            path.display()
        );
    }
    let shown = terminal_line(&path.display().to_string());
    let mut out = std::io::stdout().lock();
    writeln!(out, "store       {shown}")?;

    let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        writeln!(out, "mode        {mode:04o}, private")?;
    } else {
        writeln!(
            out,
            "mode        {mode:04o}, readable by others: any secdesk command on it makes it 0600 (or run `chmod 600 {shown}`)"
        )?;
    }

    file::check_header(&path)?;
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: path.clone(),
        source,
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let identity = file::identify(&conn, &path)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let owner = match identity {
        file::Identity::Ours => "secdesk store",
        file::Identity::Unmarked => "secdesk store from before the mark (marked on next open)",
        file::Identity::New => "empty (secdesk creates its schema on first use)",
    };
    writeln!(
        out,
        "owner       {owner}, schema version {version} of {}",
        MIGRATIONS.len()
    )?;
    let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    writeln!(
        out,
        "size        {pages} pages, {:.1} MB",
        (pages * page_size) as f64 / 1e6
    )?;

    let problems = match file::integrity_problems(&conn, LIMIT) {
        Ok(p) => p,
        Err(e) => vec![e.to_string()],
    };
    if problems.is_empty() {
        writeln!(out, "integrity   ok")?;
    } else {
        writeln!(out, "integrity   DAMAGED:")?;
        for p in &problems {
            writeln!(out, "  {}", terminal_line(p))?;
        }
    }
    let broken = file::broken_references(&conn, LIMIT).unwrap_or_default();
    if broken.is_empty() {
        writeln!(out, "references  ok")?;
    } else {
        writeln!(out, "references  rows referring to rows that are gone:")?;
        for b in &broken {
            writeln!(out, "  {}", terminal_line(b))?;
        }
        writeln!(
            out,
            "  (an outbox reply whose report is gone is never sent: `secdesk outbox` marks it failed; discard it with `secdesk outbox --discard ID`)"
        )?;
    }
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "\nthe store is damaged; secdesk opens it read-only until it is replaced. To recover:\n\
         1. `secdesk backup NEW_FILE` salvages every readable row into a new store\n\
         2. `secdesk check NEW_FILE` checks the copy\n\
         3. stop every desk, move {shown} (and its -wal and -shm files) away, and move NEW_FILE to {shown}\n\
         4. `secdesk sync` fetches again any mail the copy lacks"
    )?;
    Ok(ExitCode::FAILURE)
}
