//! A CVE JSON 5.1 record (CVE Record Format 5.1.1) with the CNA container: the team is the
//! CNA, `providerMetadata.orgId` is `[advisory] cna_org_id`.

use serde_json::{json, Map, Value};

use super::{
    missing_with_range, package, range, refuse_missing, refuse_over, too_long, ExportError, Format,
    Limit, Meta, Range,
};
use crate::core::advisory::{Advisory, Severity};

/// The record, or the list of fields it still needs.
pub fn record(a: &Advisory, meta: &Meta<'_>) -> Result<Value, ExportError> {
    let missing = missing(a, meta);
    let range = range(a);
    refuse_missing(meta.id, Format::Cve, missing)?;
    super::refuse_two_ends(meta.id, Format::Cve, a)?;
    let mut over = too_long(&limits(a));
    if a.references.len() > MAX_REFERENCES {
        over.push(format!(
            "references are {} and a CVE record holds at most {MAX_REFERENCES}",
            a.references.len()
        ));
    }
    refuse_over(meta.id, Format::Cve, over)?;
    refuse_bad_config(meta)?;
    let (Ok(range), Some(severity), Some(org), Some(cve)) =
        (range, a.severity(), &meta.config.cna_org_id, &a.cve)
    else {
        // All were checked just above.
        return Err(unfit(meta, "the fields could not be read".into()));
    };

    let mut cna = Map::new();
    cna.insert("providerMetadata".into(), json!({ "orgId": org }));
    if let Some(s) = &a.summary {
        cna.insert("title".into(), json!(s));
    }
    cna.insert(
        "descriptions".into(),
        json!([{ "lang": "en", "value": a.details }]),
    );
    cna.insert("affected".into(), json!([affected(a, meta, &range)]));
    cna.insert(
        "problemTypes".into(),
        json!([{ "descriptions": [{
            "lang": "en", "type": "CWE", "cweId": a.cwe, "description": a.cwe,
        }]}]),
    );
    cna.insert("metrics".into(), json!([metric(&severity)]));
    cna.insert("references".into(), json!(references(a)));
    if !a.credits.is_empty() {
        let credits: Vec<Value> = a
            .credits
            .iter()
            .map(|c| json!({ "lang": "en", "value": c.name, "type": c.kind.replace('_', " ") }))
            .collect();
        cna.insert("credits".into(), json!(credits));
    }
    Ok(json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": cve,
            "assignerOrgId": org,
            "state": "PUBLISHED",
            "datePublished": meta.published,
        },
        "containers": { "cna": Value::Object(cna) },
    }))
}

/// The CVE JSON 5.1 schema's `maxItems` of `references`.
const MAX_REFERENCES: usize = 512;

/// The CVE JSON 5.1 schema's `maxLength` of each field the record carries as text.
fn limits<'a>(a: &'a Advisory) -> Vec<Limit<'a>> {
    let mut limits = vec![
        Limit {
            field: "summary",
            value: a.summary.as_deref(),
            holds: "a CVE record's title",
            max: 256,
        },
        Limit {
            field: "details",
            value: a.details.as_deref(),
            holds: "a CVE record's description",
            max: 4096,
        },
        Limit {
            field: "component",
            value: a.component.as_deref(),
            holds: "a CVE record's product",
            max: 2048,
        },
    ];
    for (field, value) in [
        ("introduced", &a.introduced),
        ("fixed", &a.fixed),
        ("last_affected", &a.last_affected),
    ] {
        limits.push(Limit {
            field,
            value: value.as_deref(),
            holds: "a CVE record's version",
            max: 1024,
        });
    }
    limits.push(Limit {
        field: "cwe",
        value: a.cwe.as_deref(),
        holds: "a CVE record's CWE id",
        max: 9,
    });
    // A URL (`uriType`) holds 2,048: each reference, and the repo (a reference too when
    // there are none).
    let url = |field, url: &'a String| Limit {
        field,
        value: Some(url.as_str()),
        holds: "a CVE record's URL",
        max: 2048,
    };
    limits.extend(a.references.iter().map(|u| url("references", u)));
    limits.extend(a.repo.iter().map(|u| url("repo", u)));
    limits.extend(a.credits.iter().map(|c| Limit {
        field: "credits",
        value: Some(c.name.as_str()),
        holds: "a CVE record's credit",
        max: 4096,
    }));
    limits
}

/// The fields a CVE record needs that the advisory (or the config) lacks.
fn missing(a: &Advisory, meta: &Meta<'_>) -> Vec<String> {
    missing_with_range(
        a,
        &[
            ("cve", a.cve.is_some()),
            ("details", a.details.is_some()),
            ("cwe", a.cwe.is_some()),
            ("cvss", a.cvss.is_some()),
            (
                "component (or package)",
                a.component.is_some() || a.package.is_some(),
            ),
            (
                "references (or repo)",
                !a.references.is_empty() || a.repo.is_some(),
            ),
            (
                "[advisory] cna_org_id in the config",
                meta.config.cna_org_id.is_some(),
            ),
        ],
    )
}

/// The one `affected` product: vendor, product or package, repo, and the affected range.
fn affected(a: &Advisory, meta: &Meta<'_>, range: &Range) -> Value {
    let mut product = Map::new();
    product.insert("vendor".into(), json!(meta.config.vendor));
    let name = package(a).map(|(_, n)| n);
    product.insert(
        "product".into(),
        json!(a.component.as_deref().or(name).unwrap_or_default()),
    );
    if let Some((ecosystem, name)) = package(a) {
        if let Some(url) = collection_url(ecosystem) {
            product.insert("collectionURL".into(), json!(url));
            product.insert("packageName".into(), json!(name));
        }
    }
    if let Some(repo) = &a.repo {
        product.insert("repo".into(), json!(repo));
    }
    let mut version = Map::new();
    version.insert("version".into(), json!(range.introduced));
    version.insert("status".into(), json!("affected"));
    if let Some(f) = &range.fixed {
        version.insert("lessThan".into(), json!(f));
    } else if let Some(l) = &range.last_affected {
        version.insert("lessThanOrEqual".into(), json!(l));
    }
    version.insert(
        "versionType".into(),
        json!(if range.git { "git" } else { "custom" }),
    );
    product.insert("defaultStatus".into(), json!("unaffected"));
    product.insert("versions".into(), json!([Value::Object(version)]));
    Value::Object(product)
}

/// The CVSS metric, under `cvssV4_0` or `cvssV3_1` as its version says.
fn metric(severity: &Severity) -> Value {
    let metric_key = if severity.version == "4.0" {
        "cvssV4_0"
    } else {
        "cvssV3_1"
    };
    json!({ metric_key: {
        "version": severity.version,
        "vectorString": severity.vector,
        "baseScore": severity.score,
        "baseSeverity": severity.rating.to_ascii_uppercase(),
    }})
}

/// The references, or the repo when there are none.
fn references(a: &Advisory) -> Vec<Value> {
    let mut references: Vec<Value> = a.references.iter().map(|u| json!({ "url": u })).collect();
    if references.is_empty() {
        if let Some(repo) = &a.repo {
            references.push(json!({ "url": repo }));
        }
    }
    references
}

/// Refuses config values the record cannot carry (the config's own check, for a config that
/// was not read from a file).
fn refuse_bad_config(meta: &Meta<'_>) -> Result<(), ExportError> {
    meta.config
        .check_cve_fields()
        .map_err(|wrong| unfit(meta, format!("{wrong}; correct it in the config file")))
}

fn unfit(meta: &Meta<'_>, problem: String) -> ExportError {
    ExportError::Unfit {
        id: meta.id,
        format: "cve",
        problem,
    }
}

/// The CVE `collectionURL` of an OSV ecosystem, for the ones the CVE schema lists.
fn collection_url(ecosystem: &str) -> Option<&'static str> {
    Some(match ecosystem {
        "PyPI" => "https://pypi.python.org",
        "npm" => "https://registry.npmjs.org",
        "crates.io" => "https://crates.io",
        "RubyGems" => "https://rubygems.org",
        "Packagist" => "https://packagist.org",
        "Maven" => "https://repo.maven.apache.org/maven2",
        "NuGet" => "https://nuget.org/packages",
        "Hex" => "https://repo.hex.pm",
        "Pub" => "https://pub.dev",
        _ => return None,
    })
}
