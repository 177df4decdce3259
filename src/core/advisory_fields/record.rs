//! A report's advisory fields as one record, with setting, clearing and reading one field.

use serde::{Deserialize, Serialize};

use super::{Credit, Key, Notified, Severity, Value};

/// A report's advisory fields. Field names are contracts (`advisory --json`, the form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Advisory {
    pub component: Option<String>,
    /// `ECOSYSTEM:NAME`.
    pub package: Option<String>,
    pub repo: Option<String>,
    pub introduced: Option<String>,
    pub fixed: Option<String>,
    pub last_affected: Option<String>,
    /// A CVSS v4.0 or v3.1 vector.
    pub cvss: Option<String>,
    pub cwe: Option<String>,
    pub cve: Option<String>,
    pub ghsa: Option<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub references: Vec<String>,
    pub credits: Vec<Credit>,
    /// `YYYY-MM-DD` or RFC 3339.
    pub embargo_until: Option<String>,
    pub notified: Vec<Notified>,
}

impl Advisory {
    fn text_mut(&mut self, key: Key) -> Option<&mut Option<String>> {
        Some(match key {
            Key::Component => &mut self.component,
            Key::Package => &mut self.package,
            Key::Repo => &mut self.repo,
            Key::Introduced => &mut self.introduced,
            Key::Fixed => &mut self.fixed,
            Key::LastAffected => &mut self.last_affected,
            Key::Cvss => &mut self.cvss,
            Key::Cwe => &mut self.cwe,
            Key::Cve => &mut self.cve,
            Key::Ghsa => &mut self.ghsa,
            Key::Summary => &mut self.summary,
            Key::Details => &mut self.details,
            Key::EmbargoUntil => &mut self.embargo_until,
            Key::References | Key::Credits | Key::Notified => return None,
        })
    }

    /// Sets a field to a checked value; on a list field, adds it (once).
    pub fn set(&mut self, key: Key, value: Value) {
        match (key, value) {
            (Key::References, Value::Text(url)) => push_new(&mut self.references, url),
            (Key::Credits, Value::Credit(c)) => push_new(&mut self.credits, c),
            (Key::Notified, Value::Notified(n)) => push_new(&mut self.notified, n),
            (key, Value::Text(t)) => {
                if let Some(slot) = self.text_mut(key) {
                    *slot = Some(t);
                }
            }
            // parse_value gives credits and notified entries only for their own keys.
            _ => {}
        }
    }

    /// Clears a field.
    pub fn unset(&mut self, key: Key) {
        match key {
            Key::References => self.references.clear(),
            Key::Credits => self.credits.clear(),
            Key::Notified => self.notified.clear(),
            key => {
                if let Some(slot) = self.text_mut(key) {
                    *slot = None;
                }
            }
        }
    }

    /// One field as JSON (`null` when unset, `[]` for an empty list).
    pub fn field_json(&self, key: Key) -> serde_json::Value {
        let all = serde_json::to_value(self).unwrap_or_default();
        all.get(key.as_str())
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    }

    /// The CVSS score, when a vector is set.
    pub fn severity(&self) -> Option<Severity> {
        self.cvss.as_deref().and_then(|v| Severity::of(v).ok())
    }
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}
