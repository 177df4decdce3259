//! What the desk shows beside a report: the plain reasons, the team's policy flags with the
//! reply template that fits each, the one template to suggest first, and the earlier reports
//! that may be the same vulnerability. One call for the report view and the `d` key.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::detect::evidence;
use super::features::{Evidence, Feature};
use super::similar::{similar_reports, Similar};
use super::ClassifyError;
use crate::core::model::ReportId;
use crate::core::parse::parse_message;
use crate::core::store::raw::RawMessage;

/// One policy flag: its name, what it means, and the reply template that fits.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PolicyFlag {
    pub name: &'static str,
    pub what: &'static str,
    pub template: &'static str,
}

/// Everything the desk suggests for one report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Advice {
    /// "names CPython's tarfile and a version", "has a reproducer", "DKIM pass", ...
    pub plain: Vec<String>,
    pub policy: Vec<PolicyFlag>,
    /// The reply template to offer first, if any (`third-party`, `needs-more-info`, ...).
    pub template: Option<&'static str>,
    /// Earlier reports most likely the same vulnerability, best first.
    pub similar: Vec<Similar>,
}

/// The policy flags of a message's evidence.
pub fn policy_flags(e: &Evidence) -> Vec<PolicyFlag> {
    e.policy()
        .map(|(name, what, template)| PolicyFlag {
            name,
            what,
            template,
        })
        .collect()
}

/// The template to offer first: `third-party` for a report about another project, else the
/// template of the first policy flag raised, else none.
pub fn suggested_template(e: &Evidence) -> Option<&'static str> {
    if e.has(Feature::ThirdParty) {
        return Some("third-party");
    }
    e.policy().map(|(_, _, template)| template).next()
}

/// The advice for a stored report, from its first incoming message. `None` when the report
/// has no incoming message; [`crate::core::store::StoreError::NoSuchReport`] is not raised
/// here: an unknown id simply has no message.
pub fn report_advice(conn: &Connection, id: ReportId) -> Result<Option<Advice>, ClassifyError> {
    let raw: Option<Vec<u8>> = conn
        .query_row(
            "SELECT raw FROM messages WHERE report_id = ?1 AND direction = 'in' ORDER BY id LIMIT 1",
            [id],
            |r| Ok(r.get::<_, RawMessage>(0)?.0),
        )
        .optional()?;
    let Some(raw) = raw else { return Ok(None) };
    let e = evidence(&parse_message(&raw));
    Ok(Some(Advice {
        plain: e.plain(),
        policy: policy_flags(&e),
        template: suggested_template(&e),
        similar: similar_reports(conn, id)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ingest::{Ingestor, RawIncoming};
    use crate::core::store::Store;

    #[test]
    fn a_third_party_report_gets_the_third_party_template_and_its_flags() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let raws = [
            "Message-ID: <a@x>\nSubject: requests leaks auth header\n\nThe requests library sends the Authorization header on a redirect to another host: a security issue. Please pay a bounty.\n",
            "Message-ID: <b@x>\nSubject: urllib redirect leak\n\nurllib.request sends the Authorization header on a redirect to another host. Python 3.12, reproducer attached.\n",
        ];
        let batch = raws.iter().map(|r| RawIncoming::file(*r)).collect();
        Ingestor::without_classifier()
            .ingest_batch(&mut store, batch, None)
            .unwrap();
        let a = report_advice(store.conn(), 1).unwrap().unwrap();
        assert_eq!(a.template, Some("third-party"));
        let names: Vec<&str> = a.policy.iter().map(|p| p.name).collect();
        assert_eq!(names, ["third-party", "no-affected-version", "asks-bounty"]);
        assert!(a.plain[0].starts_with("about requests"), "{:?}", a.plain);
        let b = report_advice(store.conn(), 2).unwrap().unwrap();
        assert_eq!(b.template, None, "{b:?}");
        assert_eq!(b.similar.first().map(|s| s.id), Some(1), "{b:?}");
        assert_eq!(report_advice(store.conn(), 99).unwrap(), None);
    }
}
