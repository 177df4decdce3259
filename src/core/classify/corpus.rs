//! Labelled folders for `train` and `eval`: a folder whose subfolders name the labels
//! (`spam/`, `ham/`, `invalid/`, `valid/`), each holding one message per file.

use std::path::{Path, PathBuf};

use super::model::Label;
use super::ClassifyError;

/// Subfolders are read this deep, so a symlink loop cannot trap the walk.
const MAX_DEPTH: usize = 4;

/// Every message file under `dir`'s label subfolders, with its label, sorted by path.
/// Hidden files and `README*` files are skipped; other subfolders are ignored.
pub fn labelled_files(dir: &Path) -> Result<Vec<(Label, PathBuf)>, ClassifyError> {
    let mut out = Vec::new();
    let mut found_label = false;
    for label in Label::ALL {
        let sub = dir.join(label.as_str());
        if sub.is_dir() {
            found_label = true;
            let mut files = Vec::new();
            walk(&sub, 0, &mut files)?;
            files.sort();
            out.extend(files.into_iter().map(|f| (label, f)));
        }
    }
    if !found_label {
        if !dir.is_dir() {
            return Err(ClassifyError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
            });
        }
        return Err(ClassifyError::NoLabelledFolders {
            path: dir.to_path_buf(),
        });
    }
    Ok(out)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), ClassifyError> {
    let io = |source| ClassifyError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with("README") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            if depth < MAX_DEPTH {
                walk(&path, depth + 1, out)?;
            }
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads one message file, naming it in the error.
pub fn read_message(path: &Path) -> Result<Vec<u8>, ClassifyError> {
    std::fs::read(path).map_err(|source| ClassifyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_folders_are_read_and_others_ignored() {
        let dir = tempfile::tempdir().unwrap();
        for (sub, name) in [("spam", "a.eml"), ("valid", "b.eml"), ("misc", "c.eml")] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join(name), "Subject: x\n\ny\n").unwrap();
        }
        std::fs::write(dir.path().join("spam/README.md"), "notes").unwrap();
        let files = labelled_files(dir.path()).unwrap();
        let labels: Vec<Label> = files.iter().map(|(l, _)| *l).collect();
        assert_eq!(labels, [Label::Spam, Label::Valid]);
    }

    #[test]
    fn a_folder_without_labels_explains_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        let e = labelled_files(dir.path()).unwrap_err().to_string();
        assert!(e.contains("DIR/spam/*.eml"), "{e}");
    }
}
