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
