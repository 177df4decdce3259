//! What the steps of a sync (connect, list, plan the cursor, fetch) share about UIDs: the
//! mailbox as EXAMINE reported it, a list of UIDs written as an IMAP sequence set
//! (RFC 3501 §9), and the bytes one FETCH may ask for. A leaf, so those steps need not
//! import `sync` or each other for it.

/// Bytes of message bodies asked for in one FETCH (a single larger message is asked alone).
pub const BATCH_BYTES: u64 = 16 * 1024 * 1024;

/// The mailbox as EXAMINE reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examined {
    pub mailbox: String,
    pub uidvalidity: u32,
    /// The UID the next message will get, when the server says (RFC 3501 §7.1).
    pub uid_next: Option<u32>,
    pub exists: u32,
}

/// Formats ascending UIDs as a compact sequence set (RFC 3501 §9,
/// `sequence-set`), e.g. `1:3,7,9:10`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && end.checked_add(1) == Some(uids[i + 1]) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }
}
