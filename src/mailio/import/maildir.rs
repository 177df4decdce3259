//! What a Maildir import leaves out, so the summary can say so: Maildir++ subfolders and
//! deliveries still in `tmp/`.
//!
//! A Maildir's mail is in `cur/` and `new/`. Maildir++ (Courier's extension, also Dovecot's
//! `maildir` layout) keeps each further mailbox (`.Sent`, `.Junk`, `.INBOX.Reports`) as a
//! folder beside them whose name starts with a dot and that holds its own `cur/` and `new/`:
//! each is a mailbox of its own, imported by its own path. `tmp/` holds deliveries being
//! written (the Maildir convention, cr.yp.to/proto/maildir.html): a file there is not a
//! finished message until the deliverer moves it to `new/`; one untouched for 36 hours is
//! an abandoned delivery that the convention lets be deleted.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long a file in `tmp/` may sit untouched before the Maildir convention calls it
/// abandoned.
const ABANDONED_AFTER: Duration = Duration::from_secs(36 * 60 * 60);

/// The files in one Maildir's `tmp/`, none of them imported.
#[derive(Debug)]
pub struct Unfinished {
    /// The Maildir (not its `tmp/`).
    pub maildir: PathBuf,
    /// Changed within the last 36 hours: deliveries still being written.
    pub in_progress: usize,
    /// Untouched for longer: abandoned deliveries.
    pub abandoned: usize,
}

impl std::fmt::Display for Unfinished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = super::show(&self.maildir);
        let mut parts = Vec::new();
        if self.in_progress > 0 {
            parts.push(match self.in_progress {
                1 => "1 file in tmp/ is a delivery not finished: not imported; run again once it is done"
                    .to_string(),
                n => format!(
                    "{n} files in tmp/ are deliveries not finished: not imported; run again once they are done"
                ),
            });
        }
        if self.abandoned > 0 {
            parts.push(match self.abandoned {
                1 => "1 file in tmp/ untouched for over 36 hours is an abandoned delivery: not imported (the Maildir convention lets it be deleted)".to_string(),
                n => format!("{n} files in tmp/ untouched for over 36 hours are abandoned deliveries: not imported (the Maildir convention lets them be deleted)"),
            });
        }
        write!(f, "{path}: {}", parts.join("; "))
    }
}

/// The Maildir++ subfolders of the Maildir at `dir`, in name order: folders (not symbolic
/// links) whose name starts with a dot and that hold `cur/` or `new/`.
pub(super) fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().as_encoded_bytes().starts_with(b"."))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| p.join("cur").is_dir() || p.join("new").is_dir())
        .collect();
    found.sort();
    found
}

/// The files left in the `tmp/` of the Maildir at `dir`, when there are any. Hidden entries
/// are passed over, as in `cur/` and `new/`.
pub(super) fn unfinished(dir: &Path, now: SystemTime) -> Option<Unfinished> {
    let entries = fs::read_dir(dir.join("tmp")).ok()?;
    let mut out = Unfinished {
        maildir: dir.to_path_buf(),
        in_progress: 0,
        abandoned: 0,
    };
    for entry in entries.flatten() {
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if age > ABANDONED_AFTER {
            out.abandoned += 1;
        } else {
            out.in_progress += 1;
        }
    }
    (out.in_progress + out.abandoned > 0).then_some(out)
}

/// `secdesk import PATH` for `path`, quoted for a POSIX shell when it needs it.
pub fn import_command(path: &Path) -> String {
    format!("secdesk import {}", super::shell_word(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subfolders_are_the_dotted_folders_that_hold_a_maildir() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in [
            "cur",
            "new",
            "tmp",
            ".Sent/cur",
            ".INBOX.Reports/new",
            ".state",
            "plain/cur",
        ] {
            fs::create_dir_all(root.join(sub)).unwrap();
        }
        fs::write(root.join(".dovecot.index"), "x").unwrap();
        let found = subfolders(root);
        assert_eq!(
            found,
            vec![root.join(".INBOX.Reports"), root.join(".Sent")],
            "only dotted folders with cur/ or new/"
        );
    }

    #[test]
    fn tmp_files_are_counted_by_age() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("tmp")).unwrap();
        assert!(unfinished(dir.path(), SystemTime::now()).is_none());
        fs::write(dir.path().join("tmp/1.host"), "Subject: a\n").unwrap();
        fs::write(dir.path().join("tmp/2.host"), "Subject: b\n").unwrap();
        let now = SystemTime::now();
        let u = unfinished(dir.path(), now).unwrap();
        assert_eq!((u.in_progress, u.abandoned), (2, 0));
        let later = now + Duration::from_secs(37 * 60 * 60);
        let u = unfinished(dir.path(), later).unwrap();
        assert_eq!((u.in_progress, u.abandoned), (0, 2));
    }

    #[test]
    fn the_import_command_is_quoted_when_the_path_needs_it() {
        assert_eq!(
            import_command(Path::new("/m/Maildir/.Sent")),
            "secdesk import /m/Maildir/.Sent"
        );
        assert_eq!(
            import_command(Path::new("/m/My Mail/.Bob's")),
            r"secdesk import '/m/My Mail/.Bob'\''s'"
        );
    }
}
