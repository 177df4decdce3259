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
