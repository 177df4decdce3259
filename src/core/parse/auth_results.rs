//! SPF, DKIM and DMARC verdicts from `Authentication-Results` headers (RFC 8601).

use serde::Serialize;

/// The verdicts the receiving server recorded; `None` when the header does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuthResults {
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
}

impl AuthResults {
    /// Reads the first verdict for each method across all `Authentication-Results` values.
    pub fn from_headers<'a>(values: impl Iterator<Item = &'a str>) -> AuthResults {
        let mut out = AuthResults::default();
        for value in values {
            // The first element is the authserv-id; results follow, separated by ';'.
            for part in value.split(';').skip(1) {
                let part = part.trim();
                let Some((method, rest)) = part.split_once('=') else {
                    continue;
                };
                let verdict: String = rest
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase();
                if verdict.is_empty() {
                    continue;
                }
                let slot = match method.trim().to_ascii_lowercase().as_str() {
                    "spf" => &mut out.spf,
                    "dkim" => &mut out.dkim,
                    "dmarc" => &mut out.dmarc,
                    _ => continue,
                };
                if slot.is_none() {
                    *slot = Some(verdict);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_method() {
        let a = AuthResults::from_headers(
            ["mx.python.org; spf=pass smtp.mailfrom=example.org;\r\n dkim=fail (bad sig) header.d=example.org; dmarc=none"]
                .into_iter(),
        );
        assert_eq!(a.spf.as_deref(), Some("pass"));
        assert_eq!(a.dkim.as_deref(), Some("fail"));
        assert_eq!(a.dmarc.as_deref(), Some("none"));
    }

    #[test]
    fn absent_header_means_unknown() {
        assert_eq!(
            AuthResults::from_headers(std::iter::empty()),
            AuthResults::default()
        );
    }
}
