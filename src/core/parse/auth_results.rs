//! SPF, DKIM and DMARC verdicts from `Authentication-Results` headers (RFC 8601).
//!
//! The header is a claim like any other: a sender can write one into the message, and a
//! receiving server that does not remove forged ones (RFC 8601 §5) delivers it below its
//! own. Servers prepend their trace headers, so only the topmost `Authentication-Results`
//! is read, with the ones right after it (no other header between) from the same
//! authserv-id: several filters of one server (SPF, DKIM, DMARC) each add their own. A
//! verdict further down, or from another authserv-id, is not the receiving server's and is
//! ignored.

use serde::Serialize;

/// The verdicts the receiving server recorded; `None` when the header does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuthResults {
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
}

impl AuthResults {
    /// Reads the verdicts of the topmost `Authentication-Results` field and of the fields
    /// from the same authserv-id right after it, from a message's header fields in order.
    pub fn from_headers<'a>(fields: impl Iterator<Item = (&'a str, &'a str)>) -> AuthResults {
        let mut out = AuthResults::default();
        let mut trusted: Option<String> = None;
        for (name, value) in fields.skip_while(|(n, _)| !is_auth_results(n)) {
            if !is_auth_results(name)
                || trusted.as_ref().is_some_and(|id| *id != authserv_id(value))
            {
                break;
            }
            trusted.get_or_insert_with(|| authserv_id(value));
            out.read(value);
        }
        out
    }

    /// The first verdict for each method in one field's results.
    fn read(&mut self, value: &str) {
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
                "spf" => &mut self.spf,
                "dkim" => &mut self.dkim,
                "dmarc" => &mut self.dmarc,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(verdict);
            }
        }
    }
}

fn is_auth_results(name: &str) -> bool {
    name.eq_ignore_ascii_case("Authentication-Results")
}

/// A field's authserv-id (RFC 8601 §2.2), lowercase, without its version or comments.
fn authserv_id(value: &str) -> String {
    let head = value.split(';').next().unwrap_or("");
    let head = head.split('(').next().unwrap_or("");
    head.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_method() {
        let a = AuthResults::from_headers(
            [("Authentication-Results", "mx.python.org; spf=pass smtp.mailfrom=example.org;\r\n dkim=fail (bad sig) header.d=example.org; dmarc=none")]
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

    fn fields(list: &[(&'static str, &'static str)]) -> AuthResults {
        AuthResults::from_headers(list.iter().copied())
    }

    #[test]
    fn a_verdict_written_below_the_servers_own_is_not_believed() {
        // The receiving server recorded SPF only; the sender wrote a DKIM and DMARC pass
        // into the message, under the server's name.
        let a = fields(&[
            (
                "Authentication-Results",
                "mx.example.org; spf=softfail smtp.mailfrom=paypal.com",
            ),
            ("Received", "from attacker.example by mx.example.org"),
            (
                "Authentication-Results",
                "mx.example.org; dkim=pass header.d=paypal.com; dmarc=pass",
            ),
            ("From", "\"PayPal\" <security@paypal.com>"),
        ]);
        assert_eq!(a.spf.as_deref(), Some("softfail"));
        assert_eq!((a.dkim, a.dmarc), (None, None));
    }

    #[test]
    fn one_servers_filters_each_add_a_field_at_the_top() {
        let a = fields(&[
            (
                "Authentication-Results",
                "mx.python.org; dmarc=pass header.from=example.org",
            ),
            (
                "Authentication-Results",
                "MX.python.org (opendkim); dkim=pass header.d=example.org",
            ),
            (
                "Authentication-Results",
                "mx.python.org 1; spf=pass smtp.mailfrom=example.org",
            ),
            ("Received", "from mail.example.org by mx.python.org"),
            ("Authentication-Results", "mx.python.org; spf=fail"),
        ]);
        assert_eq!(a.dmarc.as_deref(), Some("pass"));
        assert_eq!(a.dkim.as_deref(), Some("pass"));
        assert_eq!(a.spf.as_deref(), Some("pass"));
        // Another authserv-id right after the server's is not the server's.
        let b = fields(&[
            ("Received", "from mail.example.org by mx.python.org"),
            ("Authentication-Results", "mx.python.org; spf=fail"),
            (
                "Authentication-Results",
                "evil.example; dkim=pass; dmarc=pass",
            ),
        ]);
        assert_eq!(b.spf.as_deref(), Some("fail"));
        assert_eq!((b.dkim, b.dmarc), (None, None));
    }
}
