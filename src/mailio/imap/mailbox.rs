//! Mailbox names on the wire, and finding the Sent and Junk mailboxes.
//!
//! IMAP4rev1 sends mailbox names in modified UTF-7 (RFC 3501 §5.1.3): printable ASCII
//! stands for itself except `&`, written `&-`; any other run of characters is UTF-16,
//! in base64 with `,` for `/` and no padding, between `&` and `-`. So `Sécurité` is
//! `S&AOk-curit&AOk-`. The config and the store keep the names as people write them;
//! only the wire sees the encoding.
//!
//! When the Sent or Junk mailbox is not configured, the server's SPECIAL-USE attributes
//! (RFC 6154 §2, `\Sent`, `\Junk`) name it; a server without SPECIAL-USE falls back to
//! the usual names.

use imap::types::NameAttribute;

use super::connect::{classify, within_deadline, Endpoint, ImapSession};
use super::error::ImapError;

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// `name` in modified UTF-7 (RFC 3501 §5.1.3).
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

fn flush(units: &mut Vec<u16>, out: &mut String) {
    if units.is_empty() {
        return;
    }
    let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    out.push('&');
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let digits = chunk.len() + 1;
        for i in 0..digits {
            out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out.push('-');
    units.clear();
}

/// A modified UTF-7 name decoded; `None` when it is not valid modified UTF-7.
pub fn decode(wire: &str) -> Option<String> {
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find('-')?;
        let run = &after[..end];
        if run.is_empty() {
            out.push('&');
        } else {
            let mut bits = 0u32;
            let mut nbits = 0;
            let mut bytes = Vec::new();
            for c in run.bytes() {
                let v = BASE64.iter().position(|&b| b == c)? as u32;
                bits = (bits << 6) | v;
                nbits += 6;
                if nbits >= 8 {
                    nbits -= 8;
                    bytes.push((bits >> nbits) as u8);
                    bits &= (1 << nbits) - 1;
                }
            }
            let units: Vec<u16> = bytes
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            out.push_str(&String::from_utf16(&units).ok()?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// A special-use role (RFC 6154 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Sent,
    Junk,
}

impl Role {
    /// The names servers without SPECIAL-USE commonly give it, tried in order.
    fn usual_names(self) -> &'static [&'static str] {
        match self {
            Role::Sent => &["Sent", "Sent Messages", "Sent Items", "INBOX.Sent"],
            Role::Junk => &["Junk", "Spam", "INBOX.Junk", "INBOX.spam"],
        }
    }
}

/// The mailbox that has `role`, by its SPECIAL-USE attribute (RFC 6154), else by a usual
/// name the server lists; `None` when neither finds one. The name is returned decoded.
pub fn find(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    role: Role,
) -> Result<Option<String>, ImapError> {
    let names = within_deadline(endpoint, session, |s| s.list(Some(""), Some("*")))
        .map_err(|e| classify(endpoint, "listing mailboxes", e))?;
    let listed: Vec<(String, bool)> = names
        .iter()
        .map(|n| {
            let has = n.attributes().iter().any(|a| match (role, a) {
                (Role::Sent, NameAttribute::Sent) | (Role::Junk, NameAttribute::Junk) => true,
                (_, NameAttribute::Extension(x)) => {
                    let x = x.trim_start_matches('\\');
                    match role {
                        Role::Sent => x.eq_ignore_ascii_case("Sent"),
                        Role::Junk => x.eq_ignore_ascii_case("Junk"),
                    }
                }
                _ => false,
            });
            let name = decode(n.name()).unwrap_or_else(|| n.name().to_string());
            (name, has)
        })
        .collect();
    drop(names);
    session.take_all_unsolicited().for_each(drop);
    if let Some((name, _)) = listed.iter().find(|(_, has)| *has) {
        return Ok(Some(name.clone()));
    }
    Ok(role.usual_names().iter().find_map(|usual| {
        listed
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(usual))
            .map(|(name, _)| name.clone())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3501_examples_and_french_names_round_trip() {
        // RFC 3501 §5.1.3's own example.
        assert_eq!(
            encode("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(encode("Sécurité"), "S&AOk-curit&AOk-");
        assert_eq!(encode("Envoyés"), "Envoy&AOk-s");
        assert_eq!(encode("R&D"), "R&-D");
        assert_eq!(encode("INBOX"), "INBOX");
        for name in [
            "Sécurité",
            "Envoyés",
            "R&D",
            "~peter/mail/台北/日本語",
            "😀 emoji",
            "INBOX",
        ] {
            assert_eq!(decode(&encode(name)).as_deref(), Some(name), "{name}");
        }
        assert_eq!(decode("&Jjo-!"), Some("☺!".to_string()));
        assert_eq!(decode("bad&AOk"), None, "an unterminated run is not valid");
    }
}
