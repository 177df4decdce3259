//! Line ends as the parser reads them. RFC 5322 §2.1 ends a line with CRLF; a Maildir file
//! written with CRLF that a server (Courier) converts again is served with `\r\r\n`, which
//! mailparse reads as a bare CR inside the line and an empty line after it: the header
//! section then ends after the first field, and the sender and subject are lost. For the
//! parse only, a run of CRs before an LF is one line end; the raw bytes are stored as they
//! came.

use std::borrow::Cow;

/// `raw` with every run of two or more CRs before an LF read as one CRLF; `raw` itself
/// (not copied) when it has no such run.
pub(super) fn readable(raw: &[u8]) -> Cow<'_, [u8]> {
    if !raw.windows(3).any(|w| w == b"\r\r\n") {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(cr) = rest.iter().position(|&b| b == b'\r') {
        out.extend_from_slice(&rest[..cr]);
        let run = rest[cr..].iter().take_while(|&&b| b == b'\r').count();
        let after = &rest[cr + run..];
        if after.first() == Some(&b'\n') {
            out.extend_from_slice(b"\r\n");
            rest = &after[1..];
        } else {
            out.extend_from_slice(&rest[cr..cr + run]);
            rest = after;
        }
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_crs_before_lf_is_one_line_end_and_nothing_else_changes() {
        assert_eq!(
            &*readable(b"a\r\r\nb\r\r\r\nc\r\nd\re\nf\r\r"),
            b"a\r\nb\r\nc\r\nd\re\nf\r\r"
        );
        assert!(matches!(readable(b"a\r\nb\n"), Cow::Borrowed(_)));
    }
}
