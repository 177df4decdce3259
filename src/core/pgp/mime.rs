//! Finding the OpenPGP part of a message, and building an encrypted one.
//!
//! - PGP/MIME (RFC 3156): `multipart/encrypted; protocol="application/pgp-encrypted"` (§4)
//!   and `multipart/signed; protocol="application/pgp-signature"` (§5), at the root or
//!   nested in a `multipart/mixed` (a mailing list's footer is then text outside the part).
//! - Inline PGP: an armoured `BEGIN PGP MESSAGE` or `BEGIN PGP SIGNED MESSAGE` block in the
//!   text body (RFC 4880 §6.2, §7), with whatever text surrounds it.
//!
//! All of it is pure and bounded: the tree walk stops at [`MAX_DEPTH`], and only the first
//! OpenPGP part is taken.

use mailparse::ParsedMail;

/// How deep the MIME tree is searched for an OpenPGP part.
pub const MAX_DEPTH: usize = 8;

/// The OpenPGP part of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// PGP/MIME encrypted: the armoured ciphertext (the second body part).
    MimeEncrypted { ciphertext: Vec<u8> },
    /// PGP/MIME signed: the first body part exactly as signed (headers included, CRLF line
    /// ends, RFC 3156 §5) and the detached signature.
    MimeSigned { signed: Vec<u8>, signature: Vec<u8> },
    /// An inline `BEGIN PGP MESSAGE` block.
    InlineEncrypted { block: String },
    /// An inline `BEGIN PGP SIGNED MESSAGE` block, through its signature.
    InlineSigned { block: String },
}

/// The OpenPGP part and the text outside it (never covered by its signature or encryption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    /// Text before and after the part (inline), or the other text parts (PGP/MIME).
    pub outside: Vec<String>,
}

/// Finds the first OpenPGP part of `raw`, whose plain-text body (as parsed) is `body_text`.
pub fn find(raw: &[u8], body_text: &str) -> Option<Found> {
    if names_pgp_mime(raw) {
        if let Ok(mail) = mailparse::parse_mail(raw) {
            let mut outside = Vec::new();
            if let Some(kind) = walk(&mail, 0, &mut outside) {
                return Some(Found { kind, outside });
            }
        }
    }
    inline(body_text)
}

/// Depth-first search for a PGP/MIME part; other text/plain leaves go to `outside`.
fn walk(part: &ParsedMail<'_>, depth: usize, outside: &mut Vec<String>) -> Option<Kind> {
    if depth > MAX_DEPTH {
        return None;
    }
    let ct = &part.ctype;
    let protocol = ct.params.get("protocol").map(|p| p.to_ascii_lowercase());
    match (ct.mimetype.as_str(), protocol.as_deref()) {
        ("multipart/encrypted", Some("application/pgp-encrypted")) => {
            let body = part.subparts.get(1)?.get_body_raw().ok()?;
            return Some(Kind::MimeEncrypted { ciphertext: body });
        }
        ("multipart/signed", Some("application/pgp-signature")) => {
            let boundary = ct.params.get("boundary")?;
            let signed = crlf(first_part(part.raw_bytes, boundary)?);
            let signature = part.subparts.get(1)?.get_body_raw().ok()?;
            return Some(Kind::MimeSigned { signed, signature });
        }
        _ => {}
    }
    let mut found = None;
    for sub in &part.subparts {
        let before = found.is_none();
        if before {
            found = walk(sub, depth + 1, outside);
        }
        let leaf_text = sub.subparts.is_empty() && sub.ctype.mimetype == "text/plain";
        if leaf_text && (!before || found.is_none()) {
            text_of(sub, outside);
        }
    }
    found
}

fn text_of(part: &ParsedMail<'_>, outside: &mut Vec<String>) {
    if let Ok(t) = part.get_body() {
        if !t.trim().is_empty() {
            outside.push(t.trim().to_string());
        }
    }
}

/// The bytes of the first body part of the multipart whose raw bytes are `raw`: from the
/// line after the first `--boundary` to the line break before the next one (RFC 2046 §5.1.1:
/// that line break belongs to the delimiter).
pub fn first_part<'a>(raw: &'a [u8], boundary: &str) -> Option<&'a [u8]> {
    let delim = format!("--{boundary}");
    let mut start = None;
    let mut pos = 0;
    while pos < raw.len() {
        let end = raw[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| pos + i + 1);
        let line = trim_eol(&raw[pos..end]);
        let is_delim = line.starts_with(delim.as_bytes())
            && line[delim.len()..].iter().all(|b| b" \t-".contains(b));
        if is_delim {
            match start {
                None => start = Some(end),
                Some(s) => {
                    let mut stop = pos;
                    if stop > s && raw[stop - 1] == b'\n' {
                        stop -= 1;
                        if stop > s && raw[stop - 1] == b'\r' {
                            stop -= 1;
                        }
                    }
                    return Some(&raw[s..stop.max(s)]);
                }
            }
        }
        pos = end;
    }
    None
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Line ends made CRLF, as RFC 3156 §5 says signed data is canonicalised.
pub fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Whether `hay` names a PGP/MIME content type, in any case: one automaton scan, since every
/// message of a sync passes here.
fn names_pgp_mime(hay: &[u8]) -> bool {
    static FINDER: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let finder = FINDER.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(["application/pgp-"])
            .ok()
    });
    match finder {
        Some(f) => f.is_match(hay),
        None => true,
    }
}

/// An inline armoured block in the body, and the text around it.
fn inline(body: &str) -> Option<Found> {
    const ENC: (&str, &str) = ("-----BEGIN PGP MESSAGE-----", "-----END PGP MESSAGE-----");
    const SIG: (&str, &str) = (
        "-----BEGIN PGP SIGNED MESSAGE-----",
        "-----END PGP SIGNATURE-----",
    );
    let at = |marker: &str| body.find(marker);
    let (begin, end, signed) = match (at(ENC.0), at(SIG.0)) {
        (Some(e), Some(s)) if s < e => (s, SIG.1, true),
        (Some(e), _) => (e, ENC.1, false),
        (None, Some(s)) => (s, SIG.1, true),
        (None, None) => return None,
    };
    let stop = begin + body[begin..].find(end)? + end.len();
    let block = body[begin..stop].to_string();
    let outside = [&body[..begin], &body[stop..]]
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let kind = if signed {
        Kind::InlineSigned { block }
    } else {
        Kind::InlineEncrypted { block }
    };
    Some(Found { kind, outside })
}

/// Splits a message we built into the headers that stay outside the encryption and the
/// entity that goes inside it (its `Content-*` fields and body), RFC 3156 §4.
pub fn split_for_sealing(raw: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (head, body) = match find_blank_line(raw) {
        Some((h, b)) => (&raw[..h], &raw[b..]),
        None => (raw, &raw[raw.len()..]),
    };
    let (mut outer, mut inner) = (Vec::new(), Vec::new());
    let mut to_inner = false;
    for line in head.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name = line.split(|&b| b == b':').next().unwrap_or_default();
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            to_inner = name.starts_with("content-");
            if name == "mime-version" {
                continue;
            }
        } else if String::from_utf8_lossy(line).trim().is_empty() {
            continue;
        }
        let dest = if to_inner { &mut inner } else { &mut outer };
        dest.extend_from_slice(&crlf(trim_eol(line)));
        dest.extend_from_slice(b"\r\n");
    }
    if inner.is_empty() {
        inner.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    }
    inner.extend_from_slice(b"\r\n");
    inner.extend_from_slice(&crlf(body));
    (outer, inner)
}

/// The end of the header block and the start of the body.
fn find_blank_line(raw: &[u8]) -> Option<(usize, usize)> {
    let lf = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i + 1, i + 2));
    let crlf = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i + 2, i + 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// A PGP/MIME encrypted message (RFC 3156 §4): `outer` headers, then the two body parts,
/// the second holding the `armoured` ciphertext.
pub fn sealed(outer: &[u8], armoured: &[u8], boundary: &str) -> Vec<u8> {
    let mut m = outer.to_vec();
    m.extend_from_slice(
        format!(
            "MIME-Version: 1.0\r\n\
             Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n \
             boundary=\"{boundary}\"\r\n\r\n\
             This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n\
             --{boundary}\r\n\
             Content-Type: application/pgp-encrypted\r\n\
             Content-Description: PGP/MIME version identification\r\n\r\n\
             Version: 1\r\n\r\n\
             --{boundary}\r\n\
             Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
             Content-Description: OpenPGP encrypted message\r\n\
             Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n"
        )
        .as_bytes(),
    );
    m.extend_from_slice(&crlf(armoured));
    if !m.ends_with(b"\r\n") {
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    m
}

#[cfg(test)]
mod tests;
