//! Running the user's editor on a text: `$VISUAL`, else `$EDITOR`, else `vi`.
//!
//! The variable is split on whitespace into an argv (`code --wait` works) and run directly,
//! never through a shell: the text being edited holds mail from strangers, and it only ever
//! travels through a private temporary file (mode 0600), never through a command line.
//! The TUI suspends its screen around [`edit_text`] and restores it after.

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
    for var in ["VISUAL", "EDITOR"] {
        if let Ok(value) = std::env::var(var) {
            let argv: Vec<String> = value.split_whitespace().map(str::to_string).collect();
            if !argv.is_empty() {
                return (argv, var);
            }
        }
    }
    (vec!["vi".to_string()], "EDITOR")
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
