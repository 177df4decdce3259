//! `[advisory]` in the config: what advisories and CVE records name. Defined here, below
//! `core::advisory` (which re-exports it), so reading the config needs nothing above it.

use serde::Deserialize;

/// `[advisory]` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryConfig {
    /// The OSV id prefix: ids are `PREFIX-YYYY-N` (`PSF-2026-3`).
    #[serde(default = "default_id_prefix")]
    pub id_prefix: String,
    /// The CNA's organisation UUID, for `providerMetadata.orgId` in CVE records.
    pub cna_org_id: Option<String>,
    /// The vendor named in CVE records' `affected`.
    #[serde(default = "default_vendor")]
    pub vendor: String,
    /// Where `export --format announce` sends the announcement.
    pub announce_to: Option<String>,
}

impl Default for AdvisoryConfig {
    fn default() -> Self {
        AdvisoryConfig {
            id_prefix: default_id_prefix(),
            cna_org_id: None,
            vendor: default_vendor(),
            announce_to: None,
        }
    }
}

fn default_id_prefix() -> String {
    "PSF".into()
}
fn default_vendor() -> String {
    "Python Software Foundation".into()
}

/// The pattern the OSV schema (`tests/schemas/osv/schema.json`, `$defs.prefix`) sets for a
/// record's `id`: a home database's prefix and `-`, or `x_` for a database of one's own. A
/// unit test keeps it the committed schema's.
const OSV_ID_PATTERN: &str = r"^(x_|(ASB-A|PUB-A|ALPINE|ALSA|ALBA|ALEA|AZL|BELL|BIT|CGA|CLEANSTART|CLSA|CURL|CVE|DEBIAN|DHI|DRUPAL|DSA|DLA|ELA|DTSA|ECHO|EEF|FreeBSD|GHSA|GO|GSD|HSEC|JLSEC|KUBE|LBSEC|LSN|MAL|MINI|MGASA|OESA|OSEC|OSV|openSUSE-SU|PHSA|PSF|PYSEC|RHBA|RHEA|RHSA|RLSA|RXSA|RSEC|ROOT|RUSTSEC|SUSE-[SRFO]U|UBUNTU|USN|V8)-)";

impl AdvisoryConfig {
    /// Refuses an `id_prefix` that makes OSV ids (`PREFIX-YYYY-N`) the OSV schema rejects,
    /// naming the key, the value and what is allowed.
    pub(super) fn check_id_prefix(&self) -> Result<(), String> {
        let prefix = &self.id_prefix;
        let example = format!("{prefix}-2026-1");
        // The pattern is a constant checked by the tests: it compiles.
        let allowed = regex::Regex::new(OSV_ID_PATTERN).is_ok_and(|r| r.is_match(&example));
        if allowed {
            return Ok(());
        }
        Err(format!(
            "key `advisory.id_prefix` = {prefix:?} makes OSV ids such as {example:?}, which the OSV schema refuses: write a home database OSV lists ({}), or x_ and your own name (e.g. \"x_ACME\")",
            home_databases()
        ))
    }
}

impl AdvisoryConfig {
    /// Refuses values a CVE record cannot carry: `orgId` is a version 4 UUID in the CVE
    /// schema, and the vendor a text of 1 to 512 characters. Checked when the config is read,
    /// so a wrong value is a config error (exit 78) for every command, and again by the CVE
    /// export for a config built another way.
    pub fn check_cve_fields(&self) -> Result<(), String> {
        let mut wrong = Vec::new();
        if let Some(org) = self.cna_org_id.as_deref().filter(|o| !is_uuid(o)) {
            wrong.push(format!(
                "key `advisory.cna_org_id` = {org:?} is not a UUID (the CNA's organisation id, \
                 as CVE Services gives it: a version 4 UUID, 8-4-4-4-12 hex digits)"
            ));
        }
        let vendor = self.vendor.trim().chars().count();
        if vendor == 0 || vendor > 512 {
            wrong.push(format!(
                "key `advisory.vendor` is {vendor} characters and a CVE record's vendor holds 1 to 512"
            ));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("; "))
        }
    }
}

/// A UUID as the CVE schema's `uuidType` reads it: version 4 (random), RFC 4122 variant,
/// hex in either case.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
        && groups[2].starts_with('4')
        && groups[3].starts_with(['8', '9', 'a', 'b', 'A', 'B'])
}

/// The home databases in [`OSV_ID_PATTERN`], for the refusal: `PSF, PYSEC, GHSA, …`.
fn home_databases() -> String {
    let inner = OSV_ID_PATTERN
        .split_once("|(")
        .and_then(|(_, rest)| rest.split_once(")-"))
        .map_or("", |(list, _)| list);
    inner.replace('|', ", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(prefix: &str) -> Result<(), String> {
        AdvisoryConfig {
            id_prefix: prefix.into(),
            ..AdvisoryConfig::default()
        }
        .check_id_prefix()
    }

    #[test]
    fn a_cna_id_must_be_a_version_4_uuid_and_the_vendor_fit_a_cve_record() {
        let with = |org: &str, vendor: &str| {
            AdvisoryConfig {
                cna_org_id: Some(org.into()),
                vendor: vendor.into(),
                ..AdvisoryConfig::default()
            }
            .check_cve_fields()
        };
        assert_eq!(with("28c92f92-d60d-412d-b760-e73465c3df22", "PSF"), Ok(()));
        assert_eq!(with("28C92F92-D60D-412D-B760-E73465C3DF22", "PSF"), Ok(()));
        for bad in [
            "psf",
            "28c92f92-d60d-112d-b760-e73465c3df22",
            "28c92f92-d60d-412d-c760-e73465c3df22",
            "28c92f92d60d412db760e73465c3df22",
            "28c92f92-d60d-412d-b760-e73465c3df2g",
        ] {
            let err = with(bad, "PSF").unwrap_err();
            assert!(
                err.starts_with(&format!(
                    "key `advisory.cna_org_id` = {bad:?} is not a UUID"
                )),
                "{err}"
            );
        }
        for (vendor, chars) in [("", 0), ("  ", 0), (&*"v".repeat(513), 513)] {
            let err = with("28c92f92-d60d-412d-b760-e73465c3df22", vendor).unwrap_err();
            assert_eq!(
                err,
                format!("key `advisory.vendor` is {chars} characters and a CVE record's vendor holds 1 to 512")
            );
        }
        assert!(AdvisoryConfig::default().check_cve_fields().is_ok());
    }

    #[test]
    fn the_pattern_is_the_committed_osv_schemas() {
        let schema = include_str!("../../../tests/schemas/osv/schema.json");
        let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
        assert_eq!(schema["properties"]["id"]["$ref"], "#/$defs/prefix");
        assert_eq!(schema["$defs"]["prefix"]["pattern"], OSV_ID_PATTERN);
    }

    #[test]
    fn prefixes_the_osv_schema_allows_pass() {
        for ok in [
            "PSF",
            "PYSEC",
            "GHSA",
            "SUSE-SU",
            "openSUSE-SU",
            "x_ACME",
            "PSF-pip",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn prefixes_the_osv_schema_refuses_are_named_with_what_is_allowed() {
        for bad in ["ACME", "psf", "", "X_ACME", "ASB", "SUSE-XU", "PSF\n"] {
            let err = check(bad).unwrap_err();
            assert!(
                err.starts_with(&format!("key `advisory.id_prefix` = {bad:?} makes OSV ids")),
                "{bad}: {err}"
            );
            assert!(
                err.contains("PSF, PYSEC, RHBA") && err.contains("x_ and your own name"),
                "{err}"
            );
        }
    }
}
