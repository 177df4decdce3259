//! Telling a message another client deleted during the sync from one the server withheld.
//!
//! Between the listing and the FETCH of its body, another client (a moderator deleting
//! spam from the shared mailbox) may expunge a message. The mailbox is open read-only
//! (EXAMINE, RFC 3501 §6.3.2), yet the server still tells this session of other sessions'
//! expunges: with `* N EXPUNGE` (§7.4.1), never while answering FETCH, STORE or SEARCH,
//! but allowed during UID commands and NOOP. The UID FETCH then simply leaves the message
//! out, exactly as a server withholding a body would.
//!
//! So before calling such UIDs missing the sync asks again: NOOP (so that pending
//! EXPUNGE responses arrive), then `UID FETCH set (UID)` (§6.4.8), each under the
//! operation deadline. A UID the answer leaves out is taken as expunged, but only when all
//! of the following hold, else every UID stays missing as before:
//! - both commands completed in time and OK;
//! - no FETCH response in the answer names a UID not asked for (a FETCH carrying FLAGS is
//!   an unsolicited flag change, §7.4.2, and says nothing either way);
//! - the server announced at least as many EXPUNGE responses since the listing as UIDs it
//!   now leaves out: a message cannot vanish from a selected mailbox without one (§7.4.1).
//!
//! A UID the server still has, whose body it would not give, stays missing.
//!
//! A check that times out, or whose connection is lost, is not a refused answer: the UIDs
//! stay missing and the sync ends with that error, as a FETCH cut off the same way does
//! (exit 75, run again later), instead of going on over a session left mid-answer.

use std::collections::BTreeSet;

use imap::types::UnsolicitedResponse;
use imap_proto::types::AttributeValue;
use imap_proto::Response;

use super::connect::{classify, within_deadline, Endpoint, ImapSession};
use super::error::ImapError;
use super::uids::uid_set;

/// What the check is doing, for a timeout's message.
const DURING: &str = "asking again whether messages that came without their bodies still exist";

/// Why the check's answer is not used.
#[derive(Debug)]
pub enum Recheck {
    /// The answer came and cannot be believed, or the server refused the check: the UIDs
    /// stay missing, and the sync goes on.
    Refused(String),
    /// No answer came in time, or the connection was lost: the UIDs stay missing, and the
    /// sync ends with this error (run again later).
    CutOff(ImapError),
}

/// Takes the session's unsolicited responses and counts the `* N EXPUNGE` among them;
/// the rest are not needed by a sync.
pub fn count_expunges(session: &mut ImapSession) -> usize {
    session
        .take_all_unsolicited()
        .filter(|r| matches!(r, UnsolicitedResponse::Expunge(_)))
        .count()
}

/// Of `uids` (ascending, answered without a body), those the server no longer has, or
/// why its answer cannot be believed. `expunges` counts the EXPUNGE responses the server
/// sent since the listing.
pub fn expunged_since_listing(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    uids: &[u32],
    expunges: usize,
) -> Result<BTreeSet<u32>, Recheck> {
    // Only a tagged NO or BAD leaves the session where it was. Anything else (a timeout, a
    // lost connection, an answer that does not parse, one over the limits, a TLS error) may
    // leave it halfway through an answer: the sync ends there, as a FETCH cut off does.
    let failed = |what: &str, e: imap::Error| match e {
        imap::Error::No(_) | imap::Error::Bad(_) => Recheck::Refused(format!(
            "could not ask the server again whether they still exist ({what}: {})",
            classify(endpoint, DURING, e)
        )),
        e => Recheck::CutOff(classify(endpoint, DURING, e)),
    };
    // Read response by response, as the check below is: the imap crate's own `noop`
    // refused the whole answer on a warning (an untagged NO or BAD, RFC 3501 §7.1.2-3).
    let noop = within_deadline(endpoint, session, |s| {
        s.run_command_and_read_response("NOOP")
    })
    .map_err(|e| failed("NOOP", e))?;
    let mut announced = expunges + count_expunges(session);
    super::untagged::for_each(&noop, |response| {
        if matches!(response, Response::Expunge(_)) {
            announced += 1;
        }
    })
    .map_err(|e| failed("NOOP", e))?;
    let raw = within_deadline(endpoint, session, |s| {
        s.run_command_and_read_response(format!("UID FETCH {} (UID)", uid_set(uids)))
    })
    .map_err(|e| failed("UID FETCH (UID)", e))?;
    let asked: BTreeSet<u32> = uids.iter().copied().collect();
    let mut present = BTreeSet::new();
    let mut stray = None;
    super::untagged::for_each(&raw, |response| match response {
        Response::Fetch(_, attributes) => {
            let uid = attributes.iter().find_map(|a| match a {
                AttributeValue::Uid(u) => Some(*u),
                _ => None,
            });
            let flags = attributes
                .iter()
                .any(|a| matches!(a, AttributeValue::Flags(_)));
            match uid {
                Some(uid) if asked.contains(&uid) => {
                    present.insert(uid);
                }
                Some(uid) if !flags => {
                    stray.get_or_insert(uid);
                }
                _ => {}
            }
        }
        Response::Expunge(_) => announced += 1,
        _ => {}
    })
    .map_err(|e| failed("UID FETCH (UID)", e))?;
    judge(&asked, &present, stray, announced).map_err(Recheck::Refused)
}

/// The UIDs of `asked` not `present`, when the answer holds together (see the module
/// header); `stray`: a UID the answer named that was not asked for.
fn judge(
    asked: &BTreeSet<u32>,
    present: &BTreeSet<u32>,
    stray: Option<u32>,
    announced: usize,
) -> Result<BTreeSet<u32>, String> {
    if let Some(uid) = stray {
        return Err(format!(
            "asked again whether they still exist, the server answered with UID {uid}, which was not asked for; its answer is refused"
        ));
    }
    let gone: BTreeSet<u32> = asked.difference(present).copied().collect();
    if gone.len() > announced {
        return Err(format!(
            "asked again, the server no longer lists {} of them but announced only {announced} deletions (EXPUNGE) during the sync; its answer is refused",
            gone.len()
        ));
    }
    Ok(gone)
}

/// Test hook, in debug builds only: with `SECDESK_TEST_PAUSE_BEFORE_FETCH=FILE` set, a sync
/// that has messages to fetch creates FILE after the listing and waits (up to 60 s) until
/// it is removed, so a test can change the mailbox between the listing and the FETCH
/// (`tests/sync_expunged.rs`). Release builds never read the variable.
pub fn pause_before_fetch_for_tests(to_fetch: usize) {
    #[cfg(debug_assertions)]
    if to_fetch > 0 {
        if let Some(file) = std::env::var_os("SECDESK_TEST_PAUSE_BEFORE_FETCH") {
            let file = std::path::PathBuf::from(file);
            if std::fs::write(&file, b"listed\n").is_ok() {
                let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
                while file.exists() && std::time::Instant::now() < until {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = to_fetch;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(uids: &[u32]) -> BTreeSet<u32> {
        uids.iter().copied().collect()
    }

    #[test]
    fn uids_left_out_and_announced_are_expunged() {
        let gone = judge(&set(&[3, 4, 5]), &set(&[4]), None, 2).unwrap();
        assert_eq!(gone, set(&[3, 5]));
    }

    #[test]
    fn more_left_out_than_expunges_announced_is_refused() {
        let err = judge(&set(&[3, 4, 5]), &set(&[4]), None, 1).unwrap_err();
        assert!(err.contains("announced only 1 deletions"), "{err}");
    }

    #[test]
    fn a_uid_not_asked_for_refuses_the_answer() {
        let err = judge(&set(&[3]), &set(&[]), Some(9), 5).unwrap_err();
        assert!(err.contains("UID 9, which was not asked for"), "{err}");
    }
}
