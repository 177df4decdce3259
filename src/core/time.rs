//! How the store writes times: RFC 3339 in UTC, to the second. A leaf that the store, the
//! clocks and anything else reading stored times share (`core::store` re-exports both).

/// Formats a time as the store keeps it: RFC 3339 in UTC, to the second.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Reads a stored timestamp back.
pub fn parse_timestamp(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}
