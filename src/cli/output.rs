//! Shared output helpers: error lines, JSON, and whether stdout is a terminal.

use std::io::{IsTerminal, Write};

/// Prints an error and its causes as one line on stderr, made terminal-safe.
pub fn error_line(e: &anyhow::Error) {
    let text = crate::core::sanitize::terminal_line(&format!("{e:#}"));
    let _ = writeln!(std::io::stderr(), "secdesk: error: {text}");
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// True when a person is watching stdout: progress bars and colour only then.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Writes `text` to `path` whole or not at all: a temporary file beside it, renamed over it.
pub fn write_whole(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let fail = |e: std::io::Error| anyhow::anyhow!("cannot write {}: {e}", path.display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(text.as_bytes()).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
