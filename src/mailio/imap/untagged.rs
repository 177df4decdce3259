//! A command's untagged answer, read one response at a time (RFC 3501 §7), for answers that
//! can be as long as the mailbox: the listing's UIDs, a folder's Message-IDs. The imap
//! crate's own FETCH values cost about 2 KB a message; a caller of [`for_each`] keeps only
//! what it needs from each response.

use imap_proto::Response;

/// Calls `each` with every response in `raw` (an answer as `run_command_and_read_response`
/// returns it, without its tagged completion), in order. Bytes that are no IMAP response
/// are an error, with the first of them.
pub fn for_each<'a>(raw: &'a [u8], mut each: impl FnMut(Response<'a>)) -> imap::Result<()> {
    let mut rest = raw;
    while !rest.is_empty() {
        let (after, response) = imap_proto::parser::parse_response(rest).map_err(|_| {
            imap::Error::Parse(imap::error::ParseError::Invalid(
                rest[..rest.len().min(200)].to_vec(),
            ))
        })?;
        rest = after;
        each(response);
    }
    Ok(())
}

/// Calls `each` with the UID and the header section of every FETCH response in `raw` that
/// carries both (`BODY[HEADER…]` or `RFC822.HEADER`; an empty section as empty bytes).
pub fn for_each_header(raw: &[u8], mut each: impl FnMut(u32, &[u8])) -> imap::Result<()> {
    use imap_proto::AttributeValue;
    for_each(raw, |response| {
        let Response::Fetch(_, attributes) = response else {
            return;
        };
        let (mut uid, mut header) = (None, None);
        for a in attributes {
            match a {
                AttributeValue::Uid(u) => uid = Some(u),
                AttributeValue::BodySection { data, .. } | AttributeValue::Rfc822Header(data) => {
                    header = Some(data.unwrap_or_default());
                }
                _ => {}
            }
        }
        if let (Some(uid), Some(header)) = (uid, header) {
            each(uid, &header);
        }
    })
}
