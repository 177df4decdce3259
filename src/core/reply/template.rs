//! Reply templates: the shipped ones in `assets/templates/`, overridden by files of the same
//! name in the config directory's `templates/` folder.
//!
//! A template is plain UTF-8 text with `{placeholder}`s (`{{` and `}}` stand for literal
//! braces). It may open with front matter between two `---` lines naming the state change
//! applied when the reply is sent:
//!
//! ```text
//! ---
//! state = invalid
//! reason = not-a-vulnerability
//! ---
//! Hello {reporter_name}, ...
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::model::{InvalidReason, ReportState};

/// The reply templates that ship inside the binary, by name.
const SHIPPED: &[(&str, &str)] = &[
    (
        "acknowledge",
        include_str!("../../../assets/templates/acknowledge.txt"),
    ),
    (
        "needs-more-info",
        include_str!("../../../assets/templates/needs-more-info.txt"),
    ),
    (
        "not-a-vulnerability",
        include_str!("../../../assets/templates/not-a-vulnerability.txt"),
    ),
    (
        "third-party",
        include_str!("../../../assets/templates/third-party.txt"),
    ),
    (
        "duplicate",
        include_str!("../../../assets/templates/duplicate.txt"),
    ),
    (
        "fixed-and-disclosed",
        include_str!("../../../assets/templates/fixed-and-disclosed.txt"),
    ),
];

/// The reasons a held post is rejected with (`secdesk held`'s desk key `r`), shipped in
/// `assets/templates/reject/` and overridden by `templates/reject/` beside the config.
/// Mailman mails the chosen text to the sender as the reject's `comment`.
const SHIPPED_REJECT: &[(&str, &str)] = &[
    (
        "not-a-vulnerability",
        include_str!("../../../assets/templates/reject/not-a-vulnerability.txt"),
    ),
    (
        "off-topic",
        include_str!("../../../assets/templates/reject/off-topic.txt"),
    ),
    (
        "send-to-project",
        include_str!("../../../assets/templates/reject/send-to-project.txt"),
    ),
];

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "reporter_name",
    "report_id",
    "subject",
    "my_name",
    "quote",
    "signature",
];

/// Why a template could not be used. Each message names the template and its file.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no {kind} named {name:?}: choose one of {available}, or add {name}.txt to the {folder} folder beside the config")]
    NotFound {
        kind: &'static str,
        folder: &'static str,
        name: String,
        available: String,
    },
    #[error("{name:?} is not a template name: use lowercase letters, digits and '-' only")]
    BadName { name: String },
    #[error("cannot read reply template {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reply template {name:?} ({origin}) uses the unknown placeholder {{{placeholder}}}: known ones are {known}; write {{{{ and }}}} for literal braces")]
    UnknownPlaceholder {
        name: String,
        origin: String,
        placeholder: String,
        known: String,
    },
    #[error("reply template {name:?} ({origin}) has an unmatched brace on line {line}: close the placeholder, or write {{{{ or }}}} for a literal brace")]
    UnmatchedBrace {
        name: String,
        origin: String,
        line: usize,
    },
    #[error("reply template {name:?} ({origin}), front matter line {line}: {message}")]
    FrontMatter {
        name: String,
        origin: String,
        line: usize,
        message: String,
    },
}

/// A state change a template applies when its reply is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    pub state: ReportState,
    /// Why, when the new state is `invalid`.
    pub reason: Option<InvalidReason>,
}

/// The values the placeholders are filled with.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    pub reporter_name: String,
    pub report_id: String,
    pub subject: String,
    pub my_name: String,
    pub quote: String,
    pub signature: String,
}

impl Placeholders {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "reporter_name" => &self.reporter_name,
            "report_id" => &self.report_id,
            "subject" => &self.subject,
            "my_name" => &self.my_name,
            "quote" => &self.quote,
            "signature" => &self.signature,
            _ => return None,
        })
    }
}

/// A parsed template, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    /// "shipped" or the override file's path.
    pub origin: String,
    pub state_change: Option<StateChange>,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Text(String),
    Placeholder(String),
}

impl Template {
    /// Parses template text; `origin` only names the source in errors.
    pub fn parse(name: &str, origin: &str, text: &str) -> Result<Template, TemplateError> {
        let (state_change, body, body_first_line) = front_matter(name, origin, text)?;
        let segments = segments(name, origin, body, body_first_line)?;
        Ok(Template {
            name: name.to_string(),
            origin: origin.to_string(),
            state_change,
            segments,
        })
    }

    /// True when the template places `{name}` itself.
    pub fn uses(&self, placeholder: &str) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Placeholder(p) if p == placeholder))
    }

    /// Fills in the placeholders. Every placeholder was checked at parse time.
    pub fn render(&self, values: &Placeholders) -> String {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Text(t) => out.push_str(t),
                Segment::Placeholder(p) => out.push_str(values.get(p).unwrap_or_default()),
            }
        }
        out
    }
}

/// Where templates are looked up: the config directory's `templates/` first, then the
/// shipped set. Reply templates and reject reasons are two such sets.
#[derive(Debug, Clone)]
pub struct Templates {
    override_dir: Option<PathBuf>,
    shipped: &'static [(&'static str, &'static str)],
    /// What one is called in errors, and the folder beside the config that overrides them.
    kind: &'static str,
    folder: &'static str,
}

impl Templates {
    /// Reply templates, overridable from `config_dir/templates/`.
    pub fn new(config_dir: &Path) -> Templates {
        Templates {
            override_dir: Some(config_dir.join("templates")),
            ..Templates::shipped()
        }
    }

    /// Only the shipped reply templates.
    pub fn shipped() -> Templates {
        Templates {
            override_dir: None,
            shipped: SHIPPED,
            kind: "reply template",
            folder: "templates",
        }
    }

    /// The reasons a held post can be rejected with, overridable (and added to) from
    /// `config_dir/templates/reject/`. They take no front matter: a reject changes no report.
    pub fn reject_reasons(config_dir: &Path) -> Templates {
        Templates {
            override_dir: Some(config_dir.join("templates").join("reject")),
            shipped: SHIPPED_REJECT,
            kind: "reject reason",
            folder: "templates/reject",
        }
    }

    /// Loads and checks the template `name`.
    pub fn load(&self, name: &str) -> Result<Template, TemplateError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(TemplateError::BadName {
                name: name.to_string(),
            });
        }
        if let Some(dir) = &self.override_dir {
            let path = dir.join(format!("{name}.txt"));
            match std::fs::read_to_string(&path) {
                Ok(text) => return Template::parse(name, &path.display().to_string(), &text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(TemplateError::Unreadable { path, source }),
            }
        }
        match self.shipped.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => Template::parse(name, "shipped", text),
            None => Err(TemplateError::NotFound {
                kind: self.kind,
                folder: self.folder,
                name: name.to_string(),
                available: self.names().join(", "),
            }),
        }
    }

    /// Every template name: shipped ones and those only in the override folder, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.shipped.iter().map(|(n, _)| n.to_string()).collect();
        if let Some(Ok(entries)) = self.override_dir.as_ref().map(std::fs::read_dir) {
            for e in entries.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                if let Some(n) = file.strip_suffix(".txt") {
                    if !names.iter().any(|x| x == n) {
                        names.push(n.to_string());
                    }
                }
            }
        }
        names.sort();
        names
    }
}

type FrontMatter<'a> = (Option<StateChange>, &'a str, usize);

/// Splits off the optional `---` front matter; returns the state change, the body and the
/// body's first line number.
fn front_matter<'a>(
    name: &str,
    origin: &str,
    text: &'a str,
) -> Result<FrontMatter<'a>, TemplateError> {
    let err = |line: usize, message: String| TemplateError::FrontMatter {
        name: name.to_string(),
        origin: origin.to_string(),
        line,
        message,
    };
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Ok((None, text, 1));
    };
    let mut state = None;
    let mut reason = None;
    let mut offset = 0;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        let lineno = i + 2;
        offset += line.len();
        let line = line.trim();
        if line == "---" {
            let state_change = match (state, reason) {
                (Some(state), reason) => {
                    if reason.is_some() && state != ReportState::Invalid {
                        return Err(err(
                            lineno,
                            "`reason` is only allowed with `state = invalid`".into(),
                        ));
                    }
                    Some(StateChange { state, reason })
                }
                (None, Some(_)) => {
                    return Err(err(lineno, "`reason` needs `state = invalid` too".into()))
                }
                (None, None) => None,
            };
            return Ok((state_change, &rest[offset..], lineno + 1));
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(err(
                lineno,
                format!("expected `key = value`, found {line:?}"),
            ));
        };
        let value = value.trim().trim_matches('"');
        match key.trim() {
            "state" => state = Some(value.parse::<ReportState>().map_err(|e| err(lineno, e))?),
            "reason" => reason = Some(value.parse::<InvalidReason>().map_err(|e| err(lineno, e))?),
            other => {
                return Err(err(
                    lineno,
                    format!("unknown key `{other}`: only `state` and `reason` are allowed"),
                ))
            }
        }
    }
    Err(err(
        1,
        "the front matter opened with `---` is never closed by a second `---` line".into(),
    ))
}

fn segments(
    name: &str,
    origin: &str,
    body: &str,
    first_line: usize,
) -> Result<Vec<Segment>, TemplateError> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = body.chars().peekable();
    let mut line = first_line;
    let unmatched = |line| TemplateError::UnmatchedBrace {
        name: name.to_string(),
        origin: origin.to_string(),
        line,
    };
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '}' => return Err(unmatched(line)),
            '{' => {
                let mut placeholder = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == '-' => {
                            placeholder.push(c)
                        }
                        _ => return Err(unmatched(line)),
                    }
                }
                if !PLACEHOLDERS.contains(&placeholder.as_str()) {
                    return Err(TemplateError::UnknownPlaceholder {
                        name: name.to_string(),
                        origin: origin.to_string(),
                        placeholder,
                        known: PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                out.push(Segment::Text(std::mem::take(&mut text)));
                out.push(Segment::Placeholder(placeholder));
            }
            c => {
                if c == '\n' {
                    line += 1;
                }
                text.push(c);
            }
        }
    }
    out.push(Segment::Text(text));
    out.retain(|s| !matches!(s, Segment::Text(t) if t.is_empty()));
    Ok(out)
}

#[cfg(test)]
mod tests;
