//! The advisory form: the fields as a TOML document to edit (`advisory ID --edit`, the desk's
//! `A`), and its check on save. Every error names the line it is about.

use chrono::{DateTime, Utc};

use super::fields::{parse_value, Key, CREDIT_TYPES};
use super::{Advisory, Value};

/// One problem in a saved form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The form for `a`, with a comment on how each field is written.
pub fn render(id: i64, a: &Advisory) -> String {
    let mut out = format!(
        "# Advisory fields of report #{id}. Save to apply; leave a field \"\" (or [] for a list)\n\
         # to clear it. Lines starting with # are ignored.\n"
    );
    for key in Key::ALL {
        let hint = match key {
            Key::Credits => format!("NAME:TYPE, TYPE one of {}", CREDIT_TYPES.join(", ")),
            k => k.hint().to_string(),
        };
        out += &format!("\n# {hint}\n{} = ", key.as_str());
        let value = match key {
            Key::References => list(a.references.iter().cloned()),
            Key::Credits => list(a.credits.iter().map(|c| format!("{}:{}", c.name, c.kind))),
            Key::Notified => list(a.notified.iter().map(|n| format!("{}:{}", n.who, n.at))),
            Key::Details => {
                let text = a.details.clone().unwrap_or_default();
                if text.contains("'''") {
                    toml_string(&text)
                } else {
                    format!("'''\n{text}'''")
                }
            }
            key => toml_string(a.field_json(key).as_str().unwrap_or("")),
        };
        out += &value;
        out += "\n";
    }
    out
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.map(|s| format!("  {},\n", toml_string(&s))).collect();
    if items.is_empty() {
        "[]".into()
    } else {
        format!("[\n{}]", items.concat())
    }
}

/// The comment line above the problems [`with_errors`] lists.
pub const ERRORS_MARK: &str = "# --- secdesk: problems found on save";

/// The form with the problems listed as comments at its end (so line numbers stay right).
pub fn with_errors(text: &str, errors: &[FormError]) -> String {
    let body = text.split(ERRORS_MARK).next().unwrap_or(text).trim_end();
    let mut out = format!("{body}\n\n{ERRORS_MARK}\n");
    for e in errors {
        out += &format!("# {e}\n");
    }
    out
}

/// Checks a saved form and returns the fields it sets, or every problem found.
pub fn parse(text: &str, now: DateTime<Utc>) -> Result<Advisory, Vec<FormError>> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map(|s| line_of_offset(text, s.start)).unwrap_or(1);
        vec![FormError {
            line,
            message: format!(
                "{}: fix the TOML syntax",
                e.message().trim().replace('\n', " ")
            ),
        }]
    })?;
    let mut a = Advisory::default();
    let mut errors = Vec::new();
    for (name, value) in &table {
        let line = line_of_key(text, name);
        let key: Key = match name.parse() {
            Ok(k) => k,
            Err(message) => {
                errors.push(FormError { line, message });
                continue;
            }
        };
        let entries: Vec<(String, usize)> = match (value, key.is_list()) {
            (toml::Value::String(s), false) => vec![(s.clone(), line)],
            (toml::Value::Array(items), true) => {
                let mut out = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(s) => out.push((s.to_string(), line_of_text(text, line, s))),
                        None => errors.push(FormError {
                            line,
                            message: format!("{name}: each entry is a quoted string"),
                        }),
                    }
                }
                out
            }
            (_, list) => {
                errors.push(FormError {
                    line,
                    message: if list {
                        format!("{name} is a list: write {name} = [\"…\", \"…\"]")
                    } else {
                        format!("{name} is one quoted string: write {name} = \"…\"")
                    },
                });
                continue;
            }
        };
        for (raw, line) in entries {
            if raw.trim().is_empty() {
                continue;
            }
            match parse_value(key, &raw, now) {
                Ok(v) => a.set(key, keep_details(key, v, &raw)),
                Err(message) => errors.push(FormError { line, message }),
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    if errors.is_empty() {
        Ok(a)
    } else {
        Err(errors)
    }
}

/// Details keep their text as written, apart from the newline TOML puts after `'''`.
fn keep_details(key: Key, v: Value, raw: &str) -> Value {
    match key {
        Key::Details => Value::Text(raw.trim_end().to_string()),
        _ => v,
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key = …` starts (1 when it cannot be found).
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

/// The first line at or after `from` that holds `value` (a list entry's own line).
fn line_of_text(text: &str, from: usize, value: &str) -> usize {
    text.lines()
        .enumerate()
        .skip(from - 1)
        .find(|(_, l)| l.contains(value))
        .map_or(from, |(i, _)| i + 1)
}
