//! Finding the [`Evidence`] of a message: the patterns and word lists behind each
//! [`Feature`]. The work is bounded like the tokenizer's: only the first 64 KB of text is
//! read, and every scan over words or matches is capped.

use std::sync::LazyLock;

use regex::{Regex, RegexSet, RegexSetBuilder};

use super::disguise::fold;
use super::features::{Evidence, Feature};
use super::stdlib::stdlib_names;
use super::tokenize::prefix_at_char_boundary;
use crate::core::parse::{Attachment, ParsedMessage};

/// Text read for evidence: the same bound as the tokenizer.
const MAX_TEXT: usize = 64 * 1024;
/// A body with more words than this and no reproducer "runs long".
const LONG_WORDS: usize = 350;

fn re(pattern: &str) -> Regex {
    // Only called on the constant patterns below; a bad one is a bug caught by the tests.
    Regex::new(pattern).expect("valid evidence regex")
}

static TRACKING_IMG: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)<img(?-u:\b)[^>]{0,400}?(?-u:\b)(width|height)\s*=\s*["']?[01](px)?["'\s/>]|<img(?-u:\b)[^>]{0,400}?display\s*:\s*none"#,
    )
});
/// A link: `http://www.x` is one link, not two (the `www.` after a scheme is part of it).
static URL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i-u)https?://(?:www\.)?|www\."));
/// The message claims a security problem (the policy flags about reports apply to it).
/// Third-party projects reports about which belong with their own maintainers.
static THIRD_PARTY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i-u)\b(urllib3|django|flask|numpy|pandas|pillow|jinja2|werkzeug|setuptools|cryptography|pyyaml|sqlalchemy|fastapi|tornado|twisted|aiohttp|paramiko|lxml|scipy|boto3|certifi|httpx|starlette|pydantic|celery|gunicorn|uvicorn|pytest|ansible|pypi package|pypi\.org/project/[a-z0-9_.-]+)\b|\b(requests|pip)( library| package| module|==|\s\d+\.\d+|\.(get|post|put|request|session)\b)|\b(psf/requests|import requests|pypa/pip)\b",
    )
});
/// The evidence patterns that only say "present or not", run as one set: one pass over
/// the text instead of one per pattern (they were most of the evidence's time).
const PATTERNS: &[&str] = &[
    // MONEY
    r"(?i-u)(\$|(?u:[\x{20ac}\x{a3}]))\s?\d{1,3}(,\d{3})+|(\$|(?u:[\x{20ac}\x{a3}]))\s?\d{3,}|\b\d[\d,.]*\s?(million|billion|usd|eur|gbp|dollars|euros|pounds)\b",
    // CRYPTO
    r"(?i-u)\b\d[\d,.]*\s?(btc|eth|usdt|usdc|bitcoins?|ether|xmr)\b|\b(bc1[a-z0-9]{25,60}|[13][a-km-zA-HJ-NP-Z1-9]{25,34}|0x[0-9a-fA-F]{40})\b",
    // CODE
    r"(?m)^\s*(```|>>> \S|\$ \S|#include(?-u:\b)|(def|class) \w+.*:\s*$|import \w+|from [\w.]+ import )|^(    |\t)\S.*\n(    |\t)\S.*\n(    |\t)\S",
    // TRACEBACK
    r#"Traceback \(most recent call last\)|File "[^"\n]{1,200}", line \d+"#,
    // SANITIZER
    r"(?-u)AddressSanitizer|UndefinedBehaviorSanitizer|MemorySanitizer|ThreadSanitizer|LeakSanitizer|==\d+==ERROR|runtime error: |Segmentation fault|core dumped|heap-buffer-overflow|stack-buffer-overflow|heap-use-after-free|Valgrind",
    // VERSION
    r"(?i-u)\b(python|cpython|version|versions|v|py)\s?[23]\.\d{1,2}(\.\d{1,2})?\b|\b3\.\d{1,2}\.\d{1,2}\b|\b3\.(6|7|8|9|1[0-4])\b|\bmain branch\b|\bcommit [0-9a-f]{7,40}\b|\bgh-\d{4,}",
    // CPYTHON_SOURCE
    r"(?-u)\b(Lib/[A-Za-z_/]+\.py|Modules/[A-Za-z_/]+\.[ch]|Objects/[a-z_]+\.c|Python/[a-z_]+\.c|Parser/[a-z_]+\.c|Include/[a-z_/]+\.h)\b",
    // CVE
    r"(?i-u)\bCVE-\d{4}-\d{4,}\b",
    // CWE
    r"(?i-u)\bCWE-\d{1,4}\b",
    // GHSA
    r"(?i-u)\bGHSA(-[23456789cfghjmpqrvwx]{4}){3}\b",
    // STEPS
    r"(?im)steps to reproduce|to reproduce(?-u:\b)|reproduc(er|tion)(?-u:\b)|proof of concept|(?-u:\b)poc(?-u:\b)|^\s*(step )?1[.):]\s+\S.*\n\s*(step )?2[.):]\s",
    // SECURITY
    r"(?i-u)\b(vulnerab\w*|exploit\w*|attack\w*|security (issue|flaw|hole|bug|problem|risk)|cve|rce|xss|csrf|ssrf|injection|overflow|bypass|denial of service|dos|traversal|privilege escalation|remote code)\b",
    // SEVERITY
    r"(?i-u)\bcvss\b|severity\s*(:|=|-|is|rating)?\s*(critical|high|medium|moderate|low)|\b(critical|high)[- ]severity\b|\bCVSS:[23]\.\d/",
    // BOUNTY
    r"(?i-u)\b(bug )?bount(y|ies)\b|\breward(ed|s)?\b|\bcompensat(e|ion)\b|\bhonorarium\b|\bpaid (for|program)|\bpayment for (this|my|the) (report|finding|disclosure)",
];

const MONEY: usize = 0;
const CRYPTO: usize = 1;
const CODE: usize = 2;
const TRACEBACK: usize = 3;
const SANITIZER: usize = 4;
const VERSION: usize = 5;
const CPYTHON_SOURCE: usize = 6;
const CVE: usize = 7;
const CWE: usize = 8;
const GHSA: usize = 9;
const STEPS: usize = 10;
const SECURITY: usize = 11;
const SEVERITY: usize = 12;
const BOUNTY: usize = 13;

/// The patterns that start from a literal (a traceback, a sanitizer, a source path, an id)
/// run alone: the regex engine skips to their literals, and each one's lazy DFA stays small.
/// The rest run as one set. One set of all fourteen built a lazy-DFA state for every
/// combination of patterns it met, most of the evidence's time.
const ALONE: [usize; 6] = [TRACEBACK, SANITIZER, CPYTHON_SOURCE, CVE, CWE, GHSA];

static EACH: LazyLock<Vec<Option<Regex>>> = LazyLock::new(|| {
    (0..PATTERNS.len())
        .map(|i| ALONE.contains(&i).then(|| re(PATTERNS[i])))
        .collect()
});

static SET: LazyLock<RegexSet> = LazyLock::new(|| {
    // Only the constant patterns above; a bad one is a bug caught by the tests.
    // A larger lazy-DFA cache: the set's many states otherwise keep being rebuilt.
    RegexSetBuilder::new((0..PATTERNS.len()).filter_map(|i| set_index(i).map(|_| PATTERNS[i])))
        .dfa_size_limit(16 << 20)
        .build()
        .expect("valid evidence patterns")
});

/// Pattern `i`'s place in `SET`; `None` for a pattern run alone.
fn set_index(i: usize) -> Option<usize> {
    (!ALONE.contains(&i)).then(|| i - ALONE.iter().filter(|&&a| a < i).count())
}

/// Which of the patterns match a text: the set's answer, and the patterns run alone when
/// asked.
struct Matches<'t> {
    text: &'t str,
    set: regex::SetMatches,
}

impl<'t> Matches<'t> {
    fn of(text: &'t str) -> Matches<'t> {
        Matches {
            text,
            set: SET.matches(text),
        }
    }

    fn matched(&self, i: usize) -> bool {
        match set_index(i) {
            Some(j) => self.set.matched(j),
            None => EACH[i].as_ref().is_some_and(|r| r.is_match(self.text)),
        }
    }
}

/// Finds every piece of evidence in a message.
pub fn evidence(m: &ParsedMessage) -> Evidence {
    let mut e = Evidence::default();
    let text = m.classifier_text();
    let (text, _) = fold(prefix_at_char_boundary(&text, MAX_TEXT));
    let body = &*text;
    let (subject, _) = fold(&m.subject);
    let scan = Scan {
        subject: &subject,
        body,
        html: m
            .body_html
            .as_deref()
            .map(|h| prefix_at_char_boundary(h, MAX_TEXT))
            .unwrap_or(""),
        words: body.split_whitespace().count(),
        in_body: Matches::of(body),
        in_subject: Matches::of(&subject),
    };
    structure(&mut e, m, &scan);
    sender(&mut e, m);
    for a in m.classified_attachments() {
        attachment(&mut e, a);
    }
    e.set(Feature::MoneyAmount, scan.hit(MONEY));
    e.set(Feature::CryptoAmount, scan.hit(CRYPTO));
    report_marks(&mut e, &scan);
    policy(&mut e, &scan);
    e
}

/// A message's text as its evidence reads it: the subject and the bounded bodies, and
/// which patterns match the body and the subject.
struct Scan<'t> {
    subject: &'t str,
    /// The text body (or the text of the HTML), at most `MAX_TEXT`.
    body: &'t str,
    /// The HTML body, at most `MAX_TEXT`; empty when there is none.
    html: &'t str,
    /// Words in `body`.
    words: usize,
    in_body: Matches<'t>,
    in_subject: Matches<'t>,
}

impl Scan<'_> {
    /// Whether pattern `i` matched the body or the subject.
    fn hit(&self, i: usize) -> bool {
        self.in_body.matched(i) || self.in_subject.matched(i)
    }
}

/// The shape of the mail: HTML only, many links for its words, a tracking image.
fn structure(e: &mut Evidence, m: &ParsedMessage, scan: &Scan) {
    let top_type = m.header("content-type").unwrap_or("").to_ascii_lowercase();
    e.set(
        Feature::HtmlOnly,
        top_type.starts_with("text/html") || (!scan.html.is_empty() && scan.body.trim().is_empty()),
    );
    let links = URL
        .find_iter(scan.body)
        .count()
        .max(URL.find_iter(scan.html).count());
    e.set(Feature::ManyLinks, links >= 3 && links * 40 > scan.words);
    e.set(Feature::TrackingImage, TRACKING_IMG.is_match(scan.html));
}

/// Who sent it and how: bulk-mail headers, a Reply-To elsewhere, an impersonated domain,
/// and the SPF, DKIM and DMARC results.
fn sender(e: &mut Evidence, m: &ParsedMessage) {
    use Feature::*;
    let precedence = m.header("precedence").unwrap_or("").to_ascii_lowercase();
    e.set(
        BulkMail,
        m.header("list-unsubscribe").is_some()
            || ["bulk", "list", "junk"]
                .iter()
                .any(|p| precedence.contains(p)),
    );
    let from_addr = m.from.as_ref().map(|f| f.addr.to_ascii_lowercase());
    e.set(
        ReplyToDiffers,
        m.reply_to
            .iter()
            .any(|r| Some(r.addr.to_ascii_lowercase()) != from_addr),
    );
    e.impersonated = impersonation(m);
    e.set(Impersonates, e.impersonated.is_some());
    // An unverified pass (no `[sync] authserv_id`: maybe the sender's own field) is not
    // weighed; a failure is (`AuthResults::weighed`).
    for ((_, value), (pass, fail)) in m.auth.weighed().into_iter().zip([
        (SpfPass, SpfFail),
        (DkimPass, DkimFail),
        (DmarcPass, DmarcFail),
    ]) {
        let v = value.unwrap_or("").to_ascii_lowercase();
        e.set(pass, v == "pass");
        e.set(
            fail,
            ["fail", "softfail", "permerror"].contains(&v.as_str()),
        );
    }
}

/// What one attachment is, by its type and its name's extension: a PDF, a program, an
/// archive, an office document.
fn attachment(e: &mut Evidence, a: &Attachment) {
    use Feature::*;
    let ctype = a.content_type.to_ascii_lowercase();
    let ext = a
        .name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, x)| x.to_ascii_lowercase())
        .unwrap_or_default();
    let is = |exts: &[&str]| exts.contains(&ext.as_str());
    e.set(AttachPdf, ctype == "application/pdf" || ext == "pdf");
    e.set(
        AttachProgram,
        is(&[
            "exe", "dll", "bin", "so", "msi", "scr", "apk", "jar", "elf", "com", "bat", "ps1",
            "vbs", "js",
        ]) || ctype.contains("x-msdownload")
            || ctype.contains("x-executable"),
    );
    e.set(
        AttachArchive,
        is(&["zip", "rar", "7z", "tar", "gz", "tgz", "iso", "img", "cab"])
            || ctype.contains("zip")
            || ctype.contains("compressed"),
    );
    e.set(
        AttachOffice,
        is(&[
            "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "rtf", "htm", "html",
        ]) || ctype.contains("msword")
            || ctype.contains("officedocument"),
    );
}

/// The marks of a report: code, a traceback or a sanitizer's output, a version, a CPython
/// source path, a CVE, CWE or GHSA id, steps to reproduce, standard-library modules.
fn report_marks(e: &mut Evidence, scan: &Scan) {
    use Feature::*;
    let b = &scan.in_body;
    e.set(CodeBlock, b.matched(CODE));
    e.set(Traceback, b.matched(TRACEBACK));
    e.set(Sanitizer, b.matched(SANITIZER));
    e.set(Version, scan.hit(VERSION));
    e.set(CpythonSource, b.matched(CPYTHON_SOURCE));
    e.set(CveId, scan.hit(CVE));
    e.set(CweId, b.matched(CWE));
    e.set(GhsaId, b.matched(GHSA));
    e.set(Steps, b.matched(STEPS));
    let (modules, called) = stdlib_names(scan.subject, scan.body);
    e.set(StdlibModule, !modules.is_empty());
    e.set(StdlibCall, called);
    e.modules = modules;
}

/// The team's policy flags. Those about reports count only when the message claims a
/// security problem; they read the report marks, so they come after them.
fn policy(e: &mut Evidence, scan: &Scan) {
    use Feature::*;
    let claim = scan.hit(SECURITY);
    e.set(SecurityClaim, claim);
    e.set(ClaimsSeverity, scan.hit(SEVERITY));
    e.set(
        LongNoReproducer,
        claim && scan.words > LONG_WORDS && !e.has_reproducer(),
    );
    e.set(NoVersion, claim && !e.has(Version));
    e.set(AsksBounty, scan.hit(BOUNTY));
    e.third_party = third_party(scan.subject, scan.body);
    e.set(
        ThirdParty,
        !e.third_party.is_empty() && !e.has(CpythonSource),
    );
}

/// Third-party projects named in the subject, or at least twice in the body.
fn third_party(subject: &str, body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in THIRD_PARTY.find_iter(subject) {
        push_project(&mut out, m.as_str());
    }
    // (name, mentions, named with context such as "library" or "import")
    let mut counts: Vec<(String, usize, bool)> = Vec::new();
    for m in THIRD_PARTY.find_iter(body).take(500) {
        let found = m.as_str().to_ascii_lowercase();
        let contextual = found.contains([' ', '=', '.', '/']);
        let name = found
            .trim_start_matches("import ")
            .split([' ', '=', '.'])
            .next()
            .unwrap_or("")
            .to_string();
        match counts.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, c, ctx)) => {
                *c += 1;
                *ctx |= contextual;
            }
            None => counts.push((name, 1, contextual)),
        }
    }
    for (name, n, contextual) in counts {
        if n >= 2 || contextual {
            push_project(&mut out, &name);
        }
    }
    out
}

/// Keeps the project's name ("requests library" and "import requests" both name requests).
fn push_project(out: &mut Vec<String>, found: &str) {
    let lower = found.to_ascii_lowercase();
    let name = match lower
        .split(|c: char| {
            !(c.is_ascii_alphanumeric() || c == '/' || c == '.' || c == '-' || c == '_')
        })
        .find(|w| !w.is_empty() && *w != "import")
    {
        Some(w) if w.starts_with("pypi.org/project/") => {
            w.trim_start_matches("pypi.org/project/").to_string()
        }
        Some(w) => w
            .rsplit('/')
            .next()
            .unwrap_or(w)
            .trim_end_matches('.')
            .to_string(),
        None => return,
    };
    let name = if name == "pypi" {
        "a PyPI package".to_string()
    } else {
        name
    };
    if out.len() < 2 && !out.contains(&name) {
        out.push(name);
    }
}

/// The domain a From display name impersonates: it names the recipient's domain (or its
/// first label, like "Python") while the address is from somewhere else.
fn impersonation(m: &ParsedMessage) -> Option<String> {
    let from = m.from.as_ref()?;
    // "Pythоn Security" with a Cyrillic `о` impersonates as well as the plain name.
    let name = fold(from.name.as_deref()?).0.to_ascii_lowercase();
    let from_domain = from.addr.rsplit_once('@')?.1.to_ascii_lowercase();
    for to in &m.to {
        let Some((_, domain)) = to.addr.rsplit_once('@') else {
            continue;
        };
        let domain = domain.to_ascii_lowercase();
        // It is shown in reasons: a plain host name or nothing.
        if domain.is_empty()
            || !domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            continue;
        }
        if from_domain == domain || from_domain.ends_with(&format!(".{domain}")) {
            return None;
        }
        let label = domain.split('.').next().unwrap_or("");
        let staff = [
            "security", "support", "admin", "team", "helpdesk", "it ", "mail", "service", "account",
        ];
        if name.contains(&domain)
            || (label.len() >= 4 && name.contains(label) && staff.iter().any(|s| name.contains(s)))
        {
            return Some(domain);
        }
    }
    None
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
