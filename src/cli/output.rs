//! Shared output helpers: error lines, JSON, whether stdout is a terminal, and the closed
//! pipe (`secdesk list | head -1`), which ends a command quietly, as it ends `ls`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::core::sanitize::{json_for_terminal, terminal_line};
use crate::core::store;

/// Prints an error as one line on stderr, made terminal-safe. A store error (read-only,
/// busy, full, damaged …) becomes the store's own line naming `store_path`; other errors
/// print their causes once each.
pub fn error_line(e: &anyhow::Error, store_path: Option<&Path>) {
    let text = store_path
        .and_then(|path| store::describe_error(e.as_ref(), path))
        .unwrap_or_else(|| causes(e));
    let _ = writeln!(
        std::io::stderr(),
        "secdesk: error: {}",
        terminal_line(&text)
    );
}

/// `error: cause: cause`, skipping a cause whose text the line already holds (a wrapper
/// that prints its source would otherwise say it twice).
fn causes(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// A notice on stderr (e.g. the store's mode was tightened), made terminal-safe.
pub fn notice(text: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "secdesk: notice: {}",
        terminal_line(text)
    );
}

/// True when the error is a write to a closed pipe: the reader (`head`) has what it wanted.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints a value as pretty JSON on stdout. On a terminal, characters that would act on it
/// or hide text (bidi controls, zero-width and tag characters, C1 controls) are written as
/// `\uXXXX` escapes; piped, the JSON is exactly the stored text. Both decode the same.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    let json = if stdout_is_terminal() {
        json_for_terminal(&json)
    } else {
        json
    };
    let mut out = std::io::stdout().lock();
    out.write_all(json.as_bytes())?;
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

/// A report's number as a person types it: `5`, or `#5` as the desk and `list` show it.
pub fn report_id(text: &str) -> Result<i64, String> {
    let digits = text.trim().strip_prefix('#').unwrap_or(text.trim());
    match digits.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(format!(
            "'{}' is not a report number: give the number `secdesk list` shows, like 5 or #5",
            terminal_line(text)
        )),
    }
}

/// `1 message`, `2 messages`: a count with its noun in the number it takes.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
