//! Evidence beyond words: the structure of a message (HTML only, links, tracking images,
//! bulk-mail headers, Reply-To, impersonated display names, SPF/DKIM/DMARC results,
//! attachment types, money and crypto amounts), the marks of a vulnerability report (code,
//! tracebacks, sanitizer output, versions, CPython modules, CVE/CWE/GHSA ids, steps to
//! reproduce), and the team's policy flags (claims a severity, attaches a PDF or a program,
//! long with no reproducer, no affected version, asks for a bounty, about a third-party
//! project).
//!
//! Each [`Feature`] is binary. It becomes a `feat:` token for the token models, and an input
//! of the learned combiner ([`super::stack`]); neither gives it a hand-set weight. The same
//! evidence also yields the plain reasons a person reads ([`Evidence::plain`]). The
//! detection itself is in [`super::detect`].

macro_rules! features {
    ($($variant:ident = $name:literal,)*) => {
        /// One piece of binary evidence.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Feature { $($variant,)* }
        impl Feature {
            pub const ALL: &'static [Feature] = &[$(Feature::$variant,)*];
            /// The name in tokens (`feat:NAME`), reasons and the model file.
            pub fn name(self) -> &'static str {
                match self { $(Feature::$variant => $name,)* }
            }
        }
    };
}

features! {
    HtmlOnly = "html-only",
    ManyLinks = "many-links",
    TrackingImage = "tracking-image",
    BulkMail = "bulk-mail",
    ReplyToDiffers = "reply-to-differs",
    Impersonates = "impersonates-recipient",
    SpfPass = "spf-pass",
    SpfFail = "spf-fail",
    DkimPass = "dkim-pass",
    DkimFail = "dkim-fail",
    DmarcPass = "dmarc-pass",
    DmarcFail = "dmarc-fail",
    AttachPdf = "attach-pdf",
    AttachProgram = "attach-program",
    AttachArchive = "attach-archive",
    AttachOffice = "attach-office",
    MoneyAmount = "money-amount",
    CryptoAmount = "crypto-amount",
    CodeBlock = "code-block",
    Traceback = "traceback",
    Sanitizer = "sanitizer",
    Version = "version",
    StdlibModule = "stdlib-module",
    StdlibCall = "stdlib-call",
    CpythonSource = "cpython-source",
    CveId = "cve-id",
    CweId = "cwe-id",
    GhsaId = "ghsa-id",
    Steps = "steps-to-reproduce",
    SecurityClaim = "security-claim",
    ClaimsSeverity = "claims-severity",
    LongNoReproducer = "long-no-reproducer",
    NoVersion = "no-affected-version",
    AsksBounty = "asks-bounty",
    ThirdParty = "third-party",
}

/// The team's policy flags: each shown as a named reason with the reply template that fits.
pub const POLICY: &[(Feature, &str, &str)] = &[
    (
        Feature::ThirdParty,
        "about a third-party project, not CPython",
        "third-party",
    ),
    (
        Feature::ClaimsSeverity,
        "claims a severity or CVSS score",
        "needs-more-info",
    ),
    (
        Feature::AttachPdf,
        "attaches a PDF instead of plain text",
        "needs-more-info",
    ),
    (
        Feature::AttachProgram,
        "attaches a program or binary",
        "needs-more-info",
    ),
    (
        Feature::LongNoReproducer,
        "runs long with no reproducer",
        "needs-more-info",
    ),
    (
        Feature::NoVersion,
        "names no affected version",
        "needs-more-info",
    ),
    (
        Feature::AsksBounty,
        "asks for a bounty",
        "not-a-vulnerability",
    ),
];

/// The evidence found in one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    flags: u64,
    /// Standard-library modules named, in order of first mention (at most 3).
    pub modules: Vec<String>,
    /// Third-party projects named (at most 2).
    pub third_party: Vec<String>,
    /// The domain the mail was sent to, when a display name impersonates it.
    pub impersonated: Option<String>,
}

impl Evidence {
    pub fn has(&self, f: Feature) -> bool {
        self.flags & (1 << f as u64) != 0
    }

    pub(super) fn set(&mut self, f: Feature, on: bool) {
        if on {
            self.flags |= 1 << f as u64;
        }
    }

    /// The features present, in [`Feature::ALL`] order.
    pub fn present(&self) -> impl Iterator<Item = Feature> + '_ {
        Feature::ALL.iter().copied().filter(|f| self.has(*f))
    }

    /// Has a reproducer of some kind: code, an interactive session, a traceback or sanitizer
    /// output, or written steps.
    pub fn has_reproducer(&self) -> bool {
        [
            Feature::CodeBlock,
            Feature::Traceback,
            Feature::Sanitizer,
            Feature::Steps,
        ]
        .iter()
        .any(|f| self.has(*f))
    }

    /// The evidence in words, most telling first: "names CPython's tarfile and a version;
    /// has a reproducer; DKIM pass" or "bulk mail; Reply-To differs; crypto amounts".
    pub fn plain(&self) -> Vec<String> {
        use Feature::*;
        let mut out = Vec::new();
        if self.has(ThirdParty) {
            out.push(format!("about {}", self.third_party.join(" and ")));
        }
        if !self.modules.is_empty() {
            let version = if self.has(Version) {
                " and a version"
            } else {
                ""
            };
            out.push(format!(
                "names CPython's {}{version}",
                self.modules.join(", ")
            ));
        } else if self.has(Version) {
            out.push("names a version".into());
        }
        let simple: &[(Feature, &str)] = &[
            (CpythonSource, "points at CPython source"),
            (Traceback, "has a traceback"),
            (Sanitizer, "has sanitizer output"),
        ];
        out.extend(
            simple
                .iter()
                .filter(|(f, _)| self.has(*f))
                .map(|(_, s)| s.to_string()),
        );
        if self.has(CodeBlock) || self.has(Steps) {
            out.push("has a reproducer".into());
        }
        if self.has(CveId) || self.has(CweId) || self.has(GhsaId) {
            out.push("cites CVE/CWE/GHSA ids".into());
        }
        let rest: &[(Feature, &str)] = &[
            (BulkMail, "bulk mail"),
            (HtmlOnly, "HTML only"),
            (ManyLinks, "many links for its text"),
            (TrackingImage, "tracking image"),
            (ReplyToDiffers, "Reply-To differs"),
            (MoneyAmount, "money amounts"),
            (CryptoAmount, "crypto amounts"),
            (AttachPdf, "attaches a PDF"),
            (AttachProgram, "attaches a program"),
            (AttachArchive, "attaches an archive"),
            (AttachOffice, "attaches an office document"),
            (SpfFail, "SPF fail"),
            (DkimFail, "DKIM fail"),
            (DmarcFail, "DMARC fail"),
            (DkimPass, "DKIM pass"),
        ];
        if let Some(d) = &self.impersonated {
            out.push(format!("display name impersonates {d}"));
        }
        out.extend(
            rest.iter()
                .filter(|(f, _)| self.has(*f))
                .map(|(_, s)| s.to_string()),
        );
        out
    }

    /// The policy flags raised, as `(name, what, template)`.
    pub fn policy(&self) -> impl Iterator<Item = (&'static str, &'static str, &'static str)> + '_ {
        POLICY
            .iter()
            .filter(|(f, _, _)| self.has(*f))
            .map(|(f, what, template)| (f.name(), *what, *template))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::classify::detect::evidence;
    use crate::core::parse::parse_message;

    fn ev(raw: &str) -> Evidence {
        evidence(&parse_message(raw.as_bytes()))
    }

    #[test]
    fn a_report_shows_its_substance_in_plain_words() {
        let e = ev("From: Ann <ann@example.net>\nTo: security@python.org\nSubject: tarfile escape\n\
                    Authentication-Results: mx.python.org; dkim=pass header.d=example.net\n\n\
                    On Python 3.12.1 tarfile.extractall( follows a symlink out of the target.\n\
                    Steps to reproduce:\n\n    import tarfile\n    t = tarfile.open('x.tar')\n    t.extractall('out')\n\
                    See CVE-2023-12345.\n");
        for f in [
            Feature::StdlibModule,
            Feature::StdlibCall,
            Feature::Version,
            Feature::CodeBlock,
            Feature::Steps,
            Feature::CveId,
            Feature::DkimPass,
        ] {
            assert!(e.has(f), "{f:?} missing in {e:?}");
        }
        assert!(!e.has(Feature::NoVersion));
        assert_eq!(e.modules, ["tarfile"]);
        let plain = e.plain().join("; ");
        assert!(
            plain.starts_with("names CPython's tarfile and a version"),
            "{plain}"
        );
        assert!(
            plain.contains("has a reproducer") && plain.contains("DKIM pass"),
            "{plain}"
        );
        assert_eq!(
            e.policy().count(),
            0,
            "{:?}",
            e.policy().collect::<Vec<_>>()
        );
    }

    #[test]
    fn spam_structure_is_seen() {
        let e = ev("From: \"Python Security Team\" <alerts@mailer.example>\nTo: security@python.org\n\
                    Reply-To: claims@payout.example\nList-Unsubscribe: <mailto:u@mailer.example>\n\
                    Subject: your payout\nContent-Type: text/html\n\n\
                    <p>Withdraw 2.5 BTC ($120,000) now</p><img src=\"https://t.example/o.gif\" width=\"1\" height=\"1\">\n");
        for f in [
            Feature::HtmlOnly,
            Feature::TrackingImage,
            Feature::BulkMail,
            Feature::ReplyToDiffers,
            Feature::Impersonates,
            Feature::CryptoAmount,
            Feature::MoneyAmount,
        ] {
            assert!(e.has(f), "{f:?} missing in {e:?}");
        }
        let plain = e.plain().join("; ");
        assert!(plain.contains("bulk mail; HTML only"), "{plain}");
        assert!(
            plain.contains("Reply-To differs") && plain.contains("crypto amounts"),
            "{plain}"
        );
        assert!(
            plain.contains("display name impersonates python.org"),
            "{plain}"
        );
    }

    #[test]
    fn a_link_written_with_www_counts_once() {
        // Two links in a short digest: `http://www.x` is one link, so not "many links".
        let two = ev("Subject: digest\n\nNew post http://www.jwz.org/a and http://www.jwz.org/b\n");
        assert!(!two.has(Feature::ManyLinks), "{two:?}");
        let three =
            ev("Subject: digest\n\nhttp://www.a.example/ www.b.example https://c.example/\n");
        assert!(three.has(Feature::ManyLinks), "{three:?}");
    }

    #[test]
    fn policy_flags_name_the_reply_that_fits() {
        let long = "word ".repeat(400);
        let e = ev(&format!(
            "Subject: Critical vulnerability in requests\n\nCVSS 9.8. The requests library leaks. I expect a bounty.\n{long}\n"
        ));
        let flags: Vec<_> = e.policy().map(|(n, _, t)| (n, t)).collect();
        assert_eq!(
            flags,
            [
                ("third-party", "third-party"),
                ("claims-severity", "needs-more-info"),
                ("long-no-reproducer", "needs-more-info"),
                ("no-affected-version", "needs-more-info"),
                ("asks-bounty", "not-a-vulnerability"),
            ]
        );
        assert_eq!(e.third_party, ["requests"]);
        // A CPython report that mentions a third-party project in passing is not third-party.
        let e =
            ev("Subject: bug\n\nLib/http/client.py breaks requests and requests users on 3.11\n");
        assert!(!e.has(Feature::ThirdParty), "{e:?}");
    }

    #[test]
    fn ordinary_words_are_not_module_names_unless_used_as_code() {
        let e = ev("Subject: hi\n\nThe time and string of random code.\n");
        assert!(e.modules.is_empty(), "{e:?}");
        // Nor does a message that claims no security problem get report policy flags.
        assert_eq!(e.policy().count(), 0, "{e:?}");
        let e = ev("Subject: hi\n\nCalling os.path.join and re.compile(x) hangs.\n");
        assert_eq!(e.modules, ["os.path", "re"]);
        assert!(e.has(Feature::StdlibCall));
    }
}
