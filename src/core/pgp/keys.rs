//! Reporters' public keys attached to reports (issue 16): finding them in a message and
//! reading what `gpg --show-keys --with-colons` says about them (GnuPG's doc/DETAILS,
//! "Format of the colon listings"). Pure: running gpg is `mailio::gpg`.
//!
//! A key is found in an attachment of type `application/pgp-keys` (RFC 3156 §7), or in any
//! attachment whose text holds an armoured `PUBLIC KEY BLOCK` (RFC 4880 §6.2), e.g. a
//! `.asc` file. Attachments over [`MAX_KEY_BYTES`] are not read, and at most
//! [`MAX_BLOCKS`] blocks are taken from one message. An attachment that holds a secret key
//! is never offered for import.

use crate::core::parse::Attachment;
use crate::core::sanitize::terminal_line;

/// The largest attachment read for a key: a real public key with its signatures is a few
/// kilobytes; anything this large is not offered.
pub const MAX_KEY_BYTES: usize = 256 * 1024;
/// The most key blocks taken from one message.
pub const MAX_BLOCKS: usize = 8;

const BEGIN_PUBLIC: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const END_PUBLIC: &str = "-----END PGP PUBLIC KEY BLOCK-----";
const SECRET_MARK: &str = "PRIVATE KEY BLOCK-----";

/// What one attachment held, as far as keys go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Key material to show to gpg, from the attachment named `source`.
    Block { source: String, data: Vec<u8> },
    /// An attachment that looked like a key but is not offered, and why.
    Skipped { source: String, why: String },
}

/// One key as `gpg --show-keys` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The primary key's fingerprint, upper-case hex.
    pub fingerprint: String,
    /// User ids, made safe for a terminal (they are the sender's text).
    pub uids: Vec<String>,
    /// A secret key (`sec` record): never imported.
    pub secret: bool,
    /// gpg's validity letter for the key: `e` expired, `r` revoked, `i` invalid, `d` disabled.
    pub validity: char,
    /// The key as a whole can encrypt: the primary record's capabilities hold `E` (doc/DETAILS:
    /// upper case for the usable capabilities of the primary key and its subkeys together).
    pub can_encrypt: bool,
}

impl KeyInfo {
    /// Why the key is of no use for encrypting, in words; `None` when it is usable.
    pub fn unusable(&self) -> Option<&'static str> {
        match self.validity {
            'e' => Some("expired"),
            'r' => Some("revoked"),
            'i' => Some("invalid"),
            'd' => Some("disabled"),
            _ => None,
        }
    }

    /// Whether one of its user ids names `address` ([`uid_names`]).
    pub fn names(&self, address: &str) -> bool {
        self.uids.iter().any(|u| uid_names(u, address))
    }
}

/// Whether user id `uid` names `address` (case-insensitive, in angle brackets).
pub fn uid_names(uid: &str, address: &str) -> bool {
    let want = format!("<{}>", address.to_ascii_lowercase());
    uid.to_ascii_lowercase().contains(&want)
}

/// What the report view says under a message with a key attached.
pub fn attached_line(report: i64) -> String {
    format!(
        "public key attached: `secdesk pgp import-key {report}` (or K in the desk) shows its fingerprint and imports it after you confirm"
    )
}

/// The fingerprint in groups of four, as gpg shows it to people.
pub fn grouped(fingerprint: &str) -> String {
    fingerprint
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether an attachment's type and name suggest a key, from what the store keeps about it
/// (the report view marks these).
pub fn looks_like_key(content_type: &str, name: Option<&str>, size: usize) -> bool {
    let ct = content_type.to_ascii_lowercase();
    if size > MAX_KEY_BYTES || ct.contains("pgp-signature") || ct.contains("pgp-encrypted") {
        return false;
    }
    let name = name.unwrap_or("").to_ascii_lowercase();
    ct == "application/pgp-keys"
        || [".asc", ".key", ".pub", ".pgp", ".gpg"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// The key blocks in a message's attachments (each with its decoded body).
pub fn find(attachments: &[(Attachment, Vec<u8>)]) -> Vec<Found> {
    let mut out = Vec::new();
    let mut blocks = 0;
    for (a, body) in attachments {
        let source = terminal_line(a.name.as_deref().unwrap_or("(unnamed attachment)"));
        let ct = a.content_type.to_ascii_lowercase();
        let typed = ct == "application/pgp-keys";
        if !typed && !looks_like_key(&ct, a.name.as_deref(), 0) && !ct.starts_with("text/") {
            continue;
        }
        if body.len() > MAX_KEY_BYTES {
            if typed || looks_like_key(&ct, a.name.as_deref(), 0) {
                out.push(Found::Skipped {
                    source,
                    why: format!(
                        "it is {} kB, over the {} kB a key may be: not read",
                        body.len() / 1024,
                        MAX_KEY_BYTES / 1024
                    ),
                });
            }
            continue;
        }
        let text = String::from_utf8_lossy(body);
        if text.contains(SECRET_MARK) {
            out.push(Found::Skipped {
                source,
                why: "it holds a SECRET key, which is never imported (the sender should revoke it)"
                    .into(),
            });
            continue;
        }
        let armoured = armoured_blocks(&text);
        if armoured.is_empty() && typed && !body.is_empty() && !body.is_ascii() {
            // A binary key (RFC 3156 §7 allows it): gpg reads it as it is.
            push_block(&mut out, &mut blocks, &source, body.clone());
        }
        for block in armoured {
            push_block(&mut out, &mut blocks, &source, block.into_bytes());
        }
    }
    out
}

fn push_block(out: &mut Vec<Found>, blocks: &mut usize, source: &str, data: Vec<u8>) {
    if *blocks >= MAX_BLOCKS {
        if *blocks == MAX_BLOCKS {
            out.push(Found::Skipped {
                source: source.to_string(),
                why: format!(
                    "more than {MAX_BLOCKS} key blocks in one message: the rest are not read"
                ),
            });
        }
    } else {
        out.push(Found::Block {
            source: source.to_string(),
            data,
        });
    }
    *blocks += 1;
}

/// Each armoured public key block in `text`, from its BEGIN line through its END line.
fn armoured_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN_PUBLIC) {
        let from = &rest[start..];
        let Some(end) = from.find(END_PUBLIC) else {
            break;
        };
        let stop = end + END_PUBLIC.len();
        out.push(format!("{}\n", &from[..stop]));
        rest = &from[stop..];
    }
    out
}

/// The keys in `gpg --with-colons --show-keys` output.
pub fn read_colons(listing: &str) -> Vec<KeyInfo> {
    let mut keys: Vec<KeyInfo> = Vec::new();
    // Whether the next `fpr` record is the primary key's (it follows `pub`/`sec`).
    let mut want_fpr = false;
    for line in listing.lines() {
        let f: Vec<&str> = line.split(':').collect();
        match f.first().copied() {
            Some(kind @ ("pub" | "sec")) => {
                keys.push(KeyInfo {
                    fingerprint: String::new(),
                    uids: Vec::new(),
                    secret: kind == "sec",
                    validity: f.get(1).and_then(|v| v.chars().next()).unwrap_or('-'),
                    can_encrypt: f.get(11).is_some_and(|c| c.contains('E')),
                });
                want_fpr = true;
            }
            Some("ssb") => {
                if let Some(k) = keys.last_mut() {
                    k.secret = true;
                }
            }
            Some("fpr") if want_fpr => {
                if let Some(k) = keys.last_mut() {
                    k.fingerprint = f.get(9).unwrap_or(&"").to_ascii_uppercase();
                }
                want_fpr = false;
            }
            Some("uid") => {
                if let Some(k) = keys.last_mut() {
                    // A revoked user id (`r`) does not name the key's owner any more.
                    if f.get(1) != Some(&"r") {
                        k.uids
                            .push(terminal_line(&unescape(f.get(9).unwrap_or(&""))));
                    }
                }
            }
            _ => {}
        }
    }
    keys
}

/// The C-style `\xHH` escapes of a colon listing's text fields, decoded.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 2..i + 4).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (bytes[i], bytes.get(i + 1), hex) {
            (b'\\', Some(b'x'), Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn att(name: &str, ct: &str, body: &[u8]) -> (Attachment, Vec<u8>) {
        (
            Attachment {
                name: Some(name.into()),
                content_type: ct.into(),
                size: body.len(),
                inline_part: false,
            },
            body.to_vec(),
        )
    }

    const KEY: &str =
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----";

    #[test]
    fn keys_are_found_in_typed_and_named_attachments_only() {
        let found = find(&[
            att("key.asc", "application/pgp-keys", KEY.as_bytes()),
            att(
                "notes.txt",
                "text/plain",
                format!("my key:\n{KEY}\nbye").as_bytes(),
            ),
            att("signature.asc", "application/pgp-signature", KEY.as_bytes()),
            att("poc.py", "text/x-python", b"print(1)"),
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            matches!(&found[1], Found::Block { source, data } if source == "notes.txt" && data.starts_with(b"-----BEGIN") && data.ends_with(b"BLOCK-----\n"))
        );
    }

    #[test]
    fn secret_keys_big_files_and_many_blocks_are_not_offered() {
        let secret =
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n-----END PGP PRIVATE KEY BLOCK-----";
        let found = find(&[att("k.asc", "application/pgp-keys", secret.as_bytes())]);
        assert!(matches!(&found[..], [Found::Skipped { why, .. }] if why.contains("SECRET")));
        let big = format!("{KEY}{}", " ".repeat(MAX_KEY_BYTES));
        let found = find(&[att("k.asc", "text/plain", big.as_bytes())]);
        assert!(matches!(&found[..], [Found::Skipped { why, .. }] if why.contains("256 kB")));
        let many = KEY.repeat(MAX_BLOCKS + 3);
        let found = find(&[att("k.asc", "text/plain", many.as_bytes())]);
        assert_eq!(found.len(), MAX_BLOCKS + 1);
        assert!(matches!(found.last(), Some(Found::Skipped { .. })));
    }

    #[test]
    fn the_colon_listing_gives_fingerprints_and_safe_uids() {
        let listing = "pub:-:255:22:AAAA:1:::-:::scESC::::::23::0:\n\
            fpr:::::::::0123456789abcdef0123456789abcdef01234567:\n\
            uid:-::::1::H::Eve \\x3cevil\\x3e \x1b[31m<eve@example.net>::::::::::0:\n\
            uid:r::::1::H::Old <old@example.net>::::::::::0:\n\
            sub:-:255:18:BBBB:1::::::e::::::23:\n\
            fpr:::::::::FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:\n\
            sec:e:255:22:CCCC:1:::-:::sc::::::23::0:\n\
            fpr:::::::::1111111111111111111111111111111111111111:\n";
        let keys = read_colons(listing);
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys[0].fingerprint,
            "0123456789ABCDEF0123456789ABCDEF01234567"
        );
        assert_eq!(keys[0].uids.len(), 1);
        assert!(!keys[0].uids[0].contains('\x1b'), "{:?}", keys[0].uids);
        assert!(keys[0].names("EVE@example.net") && !keys[0].names("old@example.net"));
        assert!(!keys[0].secret && keys[0].unusable().is_none());
        assert!(keys[0].can_encrypt && !keys[1].can_encrypt);
        assert!(keys[1].secret);
        assert_eq!(keys[1].unusable(), Some("expired"));
        assert_eq!(grouped("0123456789AB"), "0123 4567 89AB");
    }
}
