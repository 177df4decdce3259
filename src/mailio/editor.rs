//! Running the user's editor on a text: `$VISUAL`, else `$EDITOR`, else `vi`.
//!
//! The variable is split on whitespace into an argv (`code --wait` works) and run directly,
//! never through a shell: the text being edited holds mail from strangers, and it only ever
//! travels through a private temporary file (mode 0600), never through a command line.
//! The TUI suspends its screen around [`edit_text`] and restores it after.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::Command;

/// Why the editor could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EditorError {
    #[error("cannot create a temporary file for the editor: {0}")]
    TempFile(std::io::Error),
    #[error("cannot start the editor {program:?} (from ${var}): {source}; set $VISUAL or $EDITOR to an installed editor")]
    Spawn {
        program: String,
        var: &'static str,
        source: std::io::Error,
    },
    #[error("the editor vi (neither $VISUAL nor $EDITOR is set) needs a terminal, and stdin or stdout is not one")]
    NoTerminal,
    #[error("the editor {program:?} exited with {status}")]
    Failed { program: String, status: String },
    #[error("cannot read back the edited file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The editor's argv and the variable it came from.
pub fn editor_command() -> (Vec<String>, &'static str) {
    named_editor().unwrap_or_else(|| (vec!["vi".to_string()], "EDITOR"))
}

/// The editor `$VISUAL` or `$EDITOR` names, if one does.
fn named_editor() -> Option<(Vec<String>, &'static str)> {
    ["VISUAL", "EDITOR"].into_iter().find_map(|var| {
        let value = std::env::var(var).ok()?;
        let argv: Vec<String> = value.split_whitespace().map(str::to_string).collect();
        (!argv.is_empty()).then_some((argv, var))
    })
}

/// Whether [`edit_text`] can run here, checked before anything is written or queued: `vi`,
/// the fallback when neither `$VISUAL` nor `$EDITOR` names an editor, needs a terminal on
/// stdin and stdout (without one it warns "Output is not to a terminal" and waits for
/// keys a script never sends). An editor the user named is trusted to know what it needs
/// (`code --wait`, a script).
pub fn check_usable() -> Result<(), EditorError> {
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if terminal || named_editor().is_some() {
        Ok(())
    } else {
        Err(EditorError::NoTerminal)
    }
}

/// Opens `initial` in the editor and returns the saved text.
pub fn edit_text(initial: &str) -> Result<String, EditorError> {
    let file = tempfile::Builder::new()
        .prefix("secdesk-reply-")
        .suffix(".txt")
        .tempfile()
        .map_err(EditorError::TempFile)?;
    std::fs::write(file.path(), initial).map_err(EditorError::TempFile)?;
    let (argv, var) = editor_command();
    let (program, args) = argv
        .split_first()
        // editor_command never returns an empty argv.
        .map(|(p, a)| (p.clone(), a.to_vec()))
        .unwrap_or_else(|| ("vi".to_string(), Vec::new()));
    let status = Command::new(&program)
        .args(&args)
        .arg(file.path())
        .status()
        .map_err(|source| EditorError::Spawn {
            program: program.clone(),
            var,
            source,
        })?;
    if !status.success() {
        return Err(EditorError::Failed {
            program,
            status: status.to_string(),
        });
    }
    std::fs::read_to_string(file.path()).map_err(|source| EditorError::Read {
        path: file.path().to_path_buf(),
        source,
    })
}
