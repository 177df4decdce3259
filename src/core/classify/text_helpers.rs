//! Small text helpers the tokenizer, the evidence detector and the `Received` reader share:
//! a leaf, so those modules need not import each other for them.

/// A dotted-quad IPv4 address (four groups of one to three digits).
pub(crate) fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The longest prefix of `s` no longer than `max` bytes that ends on a character boundary.
pub(crate) fn prefix_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
