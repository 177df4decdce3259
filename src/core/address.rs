//! Mail addresses as one party: the form two spellings of the same address are compared
//! in, and the ASCII form an SMTP server without SMTPUTF8 (RFC 6531) takes.
//!
//! A domain is case-insensitive and has two spellings, its U-label (`bücher.example`) and
//! its A-label (`xn--bcher-kva.example`, RFC 5891 §4.4); both are brought to the A-label by
//! UTS #46 processing (the `idna` crate, as lettre and browsers use it). A local part is
//! compared without case, as the project has always compared ASCII addresses, now with
//! Unicode case folding too (SQLite's `lower()` folds ASCII only, so `BÜCHER` and `bücher`
//! were two parties). A local part has no ASCII form: without SMTPUTF8 it cannot be sent.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// The SQL function `secdesk_address_key(addr)`: [`key`] of a text, `''` for NULL, so a
/// query compares stored senders as the Rust side does.
pub const SQL_ADDRESS_KEY: &str = "secdesk_address_key";

/// The form two spellings of one address compare equal in: trimmed, the local part
/// lowercase, the domain lowercase as its A-label (`xn--…`, as DNS has it). An ASCII domain
/// is only lowercased, as before; a domain IDNA refuses too. The A-label rather than the
/// Unicode form: it is also what is shown where a sender is named by this key (an "another
/// sender" note), and a look-alike domain (`reprteąr.test`) must show as what it is.
///
/// Only case and the two spellings of a domain are forgiven, nothing that looks alike: the
/// key decides whether a follow-up is the reporter's (and whether mail is the team's own),
/// and a sender who writes `rita@ｒｅｐｏｒｔｅｒ.test` (fullwidth), `reporter。test` (an
/// ideographic full stop) or a Kelvin sign `K` for `k` passes no DMARC check of the
/// reporter's domain. UTS #46 maps all of those to ASCII, and Unicode lowercasing maps the
/// Kelvin sign to `k`, so each would have had the reporter's key.
pub fn key(addr: &str) -> String {
    let addr = addr.trim();
    match addr.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{}", lowercase(local), domain_key(domain)),
        None => lowercase(addr),
    }
}

/// `text` in lowercase, except that a character that is not ASCII stays as it is when its
/// lowercase would bring ASCII in (the Kelvin sign `K` lowercases to `k`, `İ` to `i̇`): case
/// is forgiven, a disguise is not.
fn lowercase(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c.to_lowercase().any(|l| l.is_ascii()) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `Name <addr>` as shown to a person, or the bare address. A name that holds what an
/// address is written with (`<`, `>`, `@`, `,`, `;`, `:`, `"`) is quoted, as RFC 5322 §3.4
/// writes it: `victim@other.example <victim@other.example>, ` as a display name would
/// otherwise read as the sender, the real address after it cut off by a narrow column.
pub fn display_mailbox(name: Option<&str>, addr: &str) -> String {
    match name.filter(|n| !n.is_empty()) {
        None => addr.to_string(),
        Some(n) if n.contains(['<', '>', '@', ',', ';', ':', '"']) => {
            let quoted = n.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{quoted}\" <{addr}>")
        }
        Some(n) => format!("{n} <{addr}>"),
    }
}

/// A domain in the form [`key`] compares it in: its A-label only when it is written as the
/// Unicode form of that A-label (case aside), so that UTS #46's mappings of look-alikes
/// (fullwidth letters, other full stops, compatibility forms) never make it another domain's.
pub fn domain_key(domain: &str) -> String {
    let lower = lowercase(domain);
    if lower.is_ascii() {
        return lower;
    }
    match idna::domain_to_ascii(&lower) {
        Ok(ascii) if idna::domain_to_unicode(&ascii).0 == lower => ascii,
        _ => lower,
    }
}

/// Why an address has no ASCII form for an SMTP server without SMTPUTF8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAscii {
    /// RFC 6531 §3.2: only SMTPUTF8 carries a non-ASCII local part; there is no encoding.
    #[error("its local part {local:?} is not ASCII, and a local part has no ASCII form")]
    LocalPart { local: String },
    #[error("its domain {domain:?} is not an internationalized domain name as written (it is not valid, or IDNA would make it another domain, as a look-alike)")]
    Domain { domain: String },
}

/// `addr` as an SMTP server without SMTPUTF8 takes it: a non-ASCII domain as its A-label
/// (RFC 5891), the local part as it is. An ASCII address is returned unchanged.
pub fn ascii_form(addr: &str) -> Result<String, NotAscii> {
    if addr.is_ascii() {
        return Ok(addr.to_string());
    }
    let (local, domain) = addr.rsplit_once('@').unwrap_or((addr, ""));
    if !local.is_ascii() {
        return Err(NotAscii::LocalPart {
            local: local.to_string(),
        });
    }
    // The A-label of the domain as written, never of a look-alike that UTS #46 would map to
    // another domain (`ｒｅｐｏｒｔｅｒ.test` to `reporter.test`): the reply would go to
    // the domain it imitates, a party the desk did not show.
    let ascii = domain_key(domain);
    if ascii.is_ascii() && !ascii.is_empty() {
        Ok(format!("{local}@{ascii}"))
    } else {
        Err(NotAscii::Domain {
            domain: domain.to_string(),
        })
    }
}

/// The SQL function `secdesk_lists_address(recipients, addr)`: whether the JSON list of
/// addresses `recipients` (an outbox row's) holds `addr` by [`key`]; NULL when `addr` is.
pub const SQL_LISTS_ADDRESS: &str = "secdesk_lists_address";

/// Whether the JSON list `recipients` holds `addr`, compared by [`key`]. A list that is not
/// JSON is searched as text for the quoted key.
pub fn lists(recipients: &str, addr: &str) -> bool {
    let wanted = key(addr);
    match serde_json::from_str::<Vec<String>>(recipients) {
        Ok(list) => list.iter().any(|r| key(r) == wanted),
        Err(_) => lowercase(recipients).contains(&format!("\"{wanted}\"")),
    }
}

/// Makes [`SQL_ADDRESS_KEY`] and [`SQL_LISTS_ADDRESS`] available on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let text = |v: ValueRef<'_>| match v {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        _ => None,
    };
    conn.create_scalar_function(SQL_ADDRESS_KEY, 1, flags, move |ctx| {
        Ok(text(ctx.get_raw(0)).map(|a| key(&a)).unwrap_or_default())
    })?;
    conn.create_scalar_function(SQL_LISTS_ADDRESS, 2, flags, move |ctx| {
        Ok(text(ctx.get_raw(1)).map(|addr| {
            let list = text(ctx.get_raw(0)).unwrap_or_default();
            lists(&list, &addr)
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_spellings_of_one_address_have_one_key() {
        let one = key("bob@bücher.example");
        for other in [
            "Bob@Bücher.example",
            "BOB@BÜCHER.EXAMPLE",
            " bob@xn--bcher-kva.example ",
            "bob@XN--BCHER-KVA.example",
        ] {
            assert_eq!(key(other), one, "{other}");
        }
        assert_eq!(key("Jörg@Example.ORG"), key("JÖRG@example.org"));
        assert_ne!(key("bob@bucher.example"), one);
        assert_eq!(key("Rita@Reporter.TEST"), "rita@reporter.test");
        assert!(lists(
            r#"["bob@xn--bcher-kva.example","sec@x"]"#,
            "Bob@BÜCHER.example"
        ));
        assert!(!lists(r#"["bob@bucher.example"]"#, "bob@bücher.example"));
    }

    /// A look-alike spelling is another party: UTS #46 and Unicode lowercasing would make
    /// each of these the reporter's (or the team's) address.
    #[test]
    fn a_look_alike_spelling_is_not_the_address_it_imitates() {
        let rita = key("rita@reporter.test");
        for other in [
            "rita@ｒｅｐｏｒｔｅｒ.test",
            "rita@reporter。test",
            "rita@reporter．test",
            "rita@repor\u{1D42D}er.test",
            "ｒｉｔａ@reporter.test",
            "\u{212A}rita@reporter.test",
            "rita@\u{212A}reporter.test",
        ] {
            assert_ne!(key(other), rita, "{other}");
        }
        assert_ne!(key("sec@\u{212A}.test"), key("sec@k.test"));
        assert_ne!(key("\u{0130}nfo@x.test"), key("i\u{307}nfo@x.test"));
        // A recipient list that is not JSON is searched with the same lowercasing.
        assert!(!lists("[\"\u{212A}im@x.test\"", "kim@x.test"));
        assert!(lists("[\"KIM@x.test\"", "kim@x.test"));
        // Case is still forgiven, in any script.
        assert_eq!(key("RITA@REPORTER.TEST"), rita);
        assert_eq!(key("ΑΛΦΑ@x.test"), key("αλφα@x.test"));
    }

    #[test]
    fn an_idn_domain_goes_as_its_a_label_and_a_non_ascii_local_part_has_no_ascii_form() {
        assert_eq!(
            ascii_form("bob@bücher.example").as_deref(),
            Ok("bob@xn--bcher-kva.example")
        );
        assert_eq!(
            ascii_form("rita@reporter.test").as_deref(),
            Ok("rita@reporter.test")
        );
        assert!(matches!(
            ascii_form("jörg@example.org"),
            Err(NotAscii::LocalPart { .. })
        ));
        // A look-alike never goes to the domain it imitates.
        for look_alike in ["rita@ｒｅｐｏｒｔｅｒ.test", "rita@reporter。test"] {
            assert!(
                matches!(ascii_form(look_alike), Err(NotAscii::Domain { .. })),
                "{look_alike}: {:?}",
                ascii_form(look_alike)
            );
        }
    }

    /// A display name written like an address (`victim@other.example <victim@…>, `) read as
    /// the sender in `show` and `list`, the real address pushed out of a narrow column. It
    /// is quoted now, so the real address is the one in angle brackets.
    #[test]
    fn a_display_name_that_looks_like_an_address_is_quoted() {
        assert_eq!(
            display_mailbox(
                Some("victim@other.example <victim@other.example>, "),
                "real@evil.example"
            ),
            "\"victim@other.example <victim@other.example>, \" <real@evil.example>"
        );
        assert_eq!(
            display_mailbox(Some("Say \"hi\"; ok"), "a@b.example"),
            "\"Say \\\"hi\\\"; ok\" <a@b.example>"
        );
        assert_eq!(
            display_mailbox(Some("Rita Reporter"), "rita@reporter.example"),
            "Rita Reporter <rita@reporter.example>"
        );
        assert_eq!(display_mailbox(Some(""), "a@b.example"), "a@b.example");
        assert_eq!(display_mailbox(None, "a@b.example"), "a@b.example");
    }
}
