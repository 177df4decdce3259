//! SPF, DKIM and DMARC verdicts from `Authentication-Results` headers (RFC 8601).
//!
//! The header is a claim like any other: a sender can write one into the message, and a
//! receiving server that does not remove forged ones (RFC 8601 §5) delivers it below its
//! own. Servers prepend their trace headers, so only the topmost `Authentication-Results`
//! is read, with the ones right after it (no other header between) from the same
//! authserv-id: several filters of one server (SPF, DKIM, DMARC) each add their own. A
//! verdict further down, or from another authserv-id, is not the receiving server's and is
//! ignored.
//!
//! Which server is "the receiving server" only the desk's configuration can say (RFC 8601
//! §5: a reader believes only fields whose authserv-id it knows). With `[sync] authserv_id`
//! set, the topmost group of fields from one of those ids is read and every other field is
//! ignored ([`Standing::Configured`]). Without it, the topmost group is read whoever wrote
//! it, and when mail comes in the verdicts are marked [`Standing::Unverified`]: if the
//! server adds no field of its own, the topmost one is the sender's. An unverified verdict
//! is shown as such, and only a failure is weighed (a sender gains nothing by writing that
//! its own mail failed; a pass would buy it trust); a failure is then taken from any field
//! of the message, as a server that appends its field puts it below the sender's.
//! `ARC-Authentication-Results` (RFC 8617) is what an intermediary saw, not the receiving
//! server: it is never read as a verdict.

use serde::{Deserialize, Serialize};

/// How far the verdicts are the receiving server's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Standing {
    /// Read without the desk's configuration (training corpora, evaluation): the topmost
    /// group, as the parser reads it. Mail the desk received (ingest, held posts, `secdesk
    /// classify`) is never left so (`core::parse::parse_received`).
    #[default]
    Unchecked,
    /// From a configured authserv-id (`[sync] authserv_id`): the receiving server's.
    Configured,
    /// No authserv-id configured: the topmost group, which the sender may have written.
    Unverified,
}

/// The verdicts the receiving server recorded; `None` when the header does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResults {
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
    /// The authserv-id of the fields the verdicts were read from, lowercase; `None` when
    /// no field was read.
    pub authserv_id: Option<String>,
    pub standing: Standing,
}

/// The verdicts that count as a failure, in the classifier and in the follow-up check
/// (`core::ingest::evidence`).
const FAILURES: [&str; 3] = ["fail", "softfail", "permerror"];

impl AuthResults {
    /// Reads the verdicts of the topmost `Authentication-Results` field and of the fields
    /// from the same authserv-id right after it, from a message's header fields in order.
    pub fn from_headers<'a>(fields: impl Iterator<Item = (&'a str, &'a str)>) -> AuthResults {
        AuthResults::read_group(fields, |_| true)
    }

    /// Reads the verdicts of the topmost `Authentication-Results` field whose authserv-id
    /// is one of `trusted` (compared without case, RFC 8601 §2.2), and of the fields from
    /// the same authserv-id right after it. Fields from any other authserv-id are ignored;
    /// with no such field there are no verdicts.
    pub fn from_trusted_headers<'a>(
        fields: impl Iterator<Item = (&'a str, &'a str)>,
        trusted: &[String],
    ) -> AuthResults {
        let is_trusted = |id: &str| trusted.iter().any(|t| t.trim().eq_ignore_ascii_case(id));
        let fields: Vec<(&str, &str)> = fields.collect();
        let mut out = AuthResults::read_group(fields.iter().copied(), is_trusted);
        out.standing = Standing::Configured;
        // A sender who guesses the server's name may write a field of its own above the
        // server's (a server that appends its field, a backup MX that adds none): a failure
        // the server recorded further down still counts.
        out.take_failures(
            fields
                .into_iter()
                .filter(|(_, v)| is_trusted(&authserv_id(v))),
        );
        out
    }

    fn read_group<'a>(
        fields: impl Iterator<Item = (&'a str, &'a str)>,
        wanted: impl Fn(&str) -> bool,
    ) -> AuthResults {
        let mut out = AuthResults::default();
        let mut fields =
            fields.skip_while(|(n, v)| !(is_auth_results(n) && wanted(&authserv_id(v))));
        let Some((_, first)) = fields.next() else {
            return out;
        };
        let id = authserv_id(first);
        out.read(first);
        for (name, value) in fields {
            if !is_auth_results(name) || authserv_id(value) != id {
                break;
            }
            out.read(value);
        }
        out.authserv_id = Some(id);
        out
    }

    /// Marks the verdicts unverified (no `[sync] authserv_id`), and takes a failure from any
    /// `Authentication-Results` field of the message where the topmost group does not
    /// record one: the server's own field may sit below one the sender wrote (a filter that
    /// appends its field, Exim's `add_header` without `:at_start:`), and a failure, unlike a
    /// pass, is nothing a sender gains by forging into its own mail.
    pub fn unverified<'a>(
        mut self,
        fields: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> AuthResults {
        self.standing = Standing::Unverified;
        self.take_failures(fields);
        self
    }

    /// Takes a failure from any `Authentication-Results` field of `fields` for a method whose
    /// verdict is not already a failure.
    fn take_failures<'a>(&mut self, fields: impl Iterator<Item = (&'a str, &'a str)>) {
        for (_, value) in fields.filter(|(n, _)| is_auth_results(n)) {
            let mut one = AuthResults::default();
            one.read(value);
            for (mine, theirs) in [
                (&mut self.spf, one.spf),
                (&mut self.dkim, one.dkim),
                (&mut self.dmarc, one.dmarc),
            ] {
                if !mine.as_deref().is_some_and(is_failure)
                    && theirs.as_deref().is_some_and(is_failure)
                {
                    *mine = theirs;
                }
            }
        }
    }

    /// The verdicts to weigh (the classifier's features and tokens): all of them, except
    /// for unverified ones, where only a failure counts. A sender who writes `dkim=pass`
    /// into its own mail must not be believed; one who writes `fail` only marks its own
    /// mail.
    pub fn weighed<'a>(&'a self) -> [(&'static str, Option<&'a str>); 3] {
        let keep = |v: &'a Option<String>| -> Option<&'a str> {
            v.as_deref()
                .filter(|v| self.standing != Standing::Unverified || is_failure(v))
        };
        [
            ("spf", keep(&self.spf)),
            ("dkim", keep(&self.dkim)),
            ("dmarc", keep(&self.dmarc)),
        ]
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

fn is_failure(verdict: &str) -> bool {
    FAILURES.contains(&verdict.to_ascii_lowercase().as_str())
}

fn is_auth_results(name: &str) -> bool {
    name.eq_ignore_ascii_case("Authentication-Results")
}

/// A field's authserv-id (RFC 8601 §2.2), lowercase, without its version, comments (CFWS,
/// RFC 5322 §3.2.2, also before it) or the quotes of a quoted-string.
fn authserv_id(value: &str) -> String {
    let head = value.split(';').next().unwrap_or("");
    let mut bare = String::with_capacity(head.len());
    let mut depth = 0usize;
    for c in head.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            _ => bare.push(c),
        }
    }
    let id = bare
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches('"');
    // A host name's limit: a longer "id" is no server's, only a sender's padding (it would
    // be stored and shown on every message).
    if id.len() > MAX_AUTHSERV_ID {
        return String::new();
    }
    id.to_ascii_lowercase()
}

/// The longest authserv-id read from mail, in bytes (a DNS name's limit, RFC 1035).
const MAX_AUTHSERV_ID: usize = 255;

/// Whether `id` can be an authserv-id as `[sync] authserv_id` names one: one word, with no
/// character that would end it in a header (`;`, white space, a comment or a quote).
pub fn is_authserv_id(id: &str) -> bool {
    !id.trim().is_empty()
        && id.trim().chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && !matches!(c, ';' | '(' | ')' | '"' | '\\')
        })
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

    fn trusting(list: &[(&'static str, &'static str)], ids: &[&str]) -> AuthResults {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        AuthResults::from_trusted_headers(list.iter().copied(), &ids)
    }

    #[test]
    fn a_configured_authserv_id_ignores_a_senders_field_from_another() {
        // The receiving server added nothing on this path (a backup MX, a forward); the
        // sender wrote a pass under a name of its own choosing at the top.
        let forged = [
            (
                "Authentication-Results",
                "mx.attacker.example; spf=pass; dkim=pass; dmarc=pass",
            ),
            ("From", "Alice <alice@reporter.example>"),
        ];
        assert_eq!(fields(&forged).dmarc.as_deref(), Some("pass"));
        let a = trusting(&forged, &["mx.python.org"]);
        assert_eq!(
            (a.spf, a.dkim, a.dmarc, a.authserv_id),
            (None, None, None, None)
        );
        assert_eq!(a.standing, Standing::Configured);

        // With the server's own field below a later hop's (a list server, an internal
        // filter), the configured one is read, compared without case (RFC 8601 §2.2).
        let a = trusting(
            &[
                ("Authentication-Results", "relay.example.net; dmarc=pass"),
                ("Received", "from mx.python.org by relay.example.net"),
                (
                    "Authentication-Results",
                    "MX.Python.ORG; spf=fail smtp.mailfrom=evil.example",
                ),
                ("Authentication-Results", "mx.python.org; dmarc=fail"),
                ("Authentication-Results", "mx.attacker.example; dkim=pass"),
                ("Authentication-Results", "mx.python.org; dkim=pass"),
            ],
            &["mx2.python.org", " Mx.Python.Org "],
        );
        assert_eq!(a.spf.as_deref(), Some("fail"));
        assert_eq!(a.dmarc.as_deref(), Some("fail"));
        // Another id ends the server's group: a field after it is not the server's.
        assert_eq!(a.dkim, None);
        assert_eq!(a.authserv_id.as_deref(), Some("mx.python.org"));
    }

    /// A sender who guesses the server's name writes a pass under it above the server's own
    /// field (a server that appends its field, a backup MX that adds none): the pass on top
    /// cannot hide the failure the server recorded further down.
    #[test]
    fn a_configured_servers_failure_below_a_forged_pass_under_its_name_still_counts() {
        let a = trusting(
            &[
                (
                    "Authentication-Results",
                    "mx.python.org; spf=pass; dkim=pass; dmarc=pass",
                ),
                ("From", "Alice <alice@reporter.example>"),
                ("Received", "from evil.example by mx.python.org"),
                (
                    "Authentication-Results",
                    "mx.python.org; spf=pass; dkim=none; dmarc=fail",
                ),
                ("Authentication-Results", "mx.attacker.example; spf=fail"),
            ],
            &["mx.python.org"],
        );
        assert_eq!(a.dmarc.as_deref(), Some("fail"));
        // Only trusted fields lend a failure: another id's `spf=fail` is not the server's.
        assert_eq!(a.spf.as_deref(), Some("pass"));
        assert_eq!(a.standing, Standing::Configured);
    }

    /// An authserv-id longer than any host name is a sender's padding, not a server: it is
    /// not kept (it would be stored and shown on every message).
    #[test]
    fn an_overlong_authserv_id_names_no_server() {
        let long = format!("{}.example; dmarc=pass", "a".repeat(300));
        let a = AuthResults::from_headers([("Authentication-Results", long.as_str())].into_iter());
        assert_eq!(a.authserv_id.as_deref(), Some(""));
        assert_eq!(a.dmarc.as_deref(), Some("pass"));
    }

    #[test]
    fn an_authserv_id_is_read_past_comments_quotes_and_version() {
        let a = trusting(
            &[(
                "Authentication-Results",
                "(checked (twice)) \"mx.python.org\" 1 (v1); dkim=pass",
            )],
            &["mx.python.org"],
        );
        assert_eq!(a.dkim.as_deref(), Some("pass"));
        assert!(is_authserv_id("mx.python.org") && is_authserv_id("mx.bücher.example"));
        for bad in ["", " ", "mx python.org", "mx.python.org;", "(mx)", "\"mx\""] {
            assert!(!is_authserv_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn arc_authentication_results_is_never_a_verdict() {
        // RFC 8617: what an intermediary saw, sealed by it; not the receiving server.
        let arc = [
            (
                "ARC-Authentication-Results",
                "i=1; mx.python.org; spf=pass; dkim=pass; dmarc=pass",
            ),
            ("From", "x@example.org"),
        ];
        assert_eq!(fields(&arc), AuthResults::default());
        assert_eq!(trusting(&arc, &["mx.python.org"]).dmarc, None);
    }

    #[test]
    fn an_unverified_pass_is_not_weighed_but_a_failure_is() {
        let mut a = fields(&[(
            "Authentication-Results",
            "mx.python.org; spf=SoftFail; dkim=pass; dmarc=fail",
        )]);
        let weighed = |a: &AuthResults| {
            a.weighed()
                .into_iter()
                .map(|(_, v)| v.map(str::to_string))
                .collect::<Vec<_>>()
        };
        let all = vec![
            Some("softfail".into()),
            Some("pass".into()),
            Some("fail".into()),
        ];
        assert_eq!(weighed(&a), all);
        a.standing = Standing::Configured;
        assert_eq!(weighed(&a), all);
        a.standing = Standing::Unverified;
        assert_eq!(
            weighed(&a),
            vec![Some("softfail".into()), None, Some("fail".into())]
        );
    }

    #[test]
    fn unverified_a_failure_below_is_not_hidden_by_a_pass_on_top() {
        // A server that appends its field (Exim's add_header without :at_start:) puts it
        // below the one the sender wrote at the top of its own headers.
        let list = [
            (
                "Authentication-Results",
                "mx.python.org; spf=pass; dkim=pass; dmarc=pass",
            ),
            ("From", "Alice <alice@reporter.example>"),
            (
                "Authentication-Results",
                "mx.python.org; spf=fail smtp.mailfrom=evil.example; dmarc=fail",
            ),
        ];
        assert_eq!(fields(&list).dmarc.as_deref(), Some("pass"));
        let a = fields(&list).unverified(list.iter().copied());
        assert_eq!(a.standing, Standing::Unverified);
        assert_eq!(a.spf.as_deref(), Some("fail"));
        assert_eq!(a.dmarc.as_deref(), Some("fail"));
        // A pass from below never replaces anything.
        assert_eq!(a.dkim.as_deref(), Some("pass"));
        assert_eq!(a.weighed()[1], ("dkim", None));
    }
}
