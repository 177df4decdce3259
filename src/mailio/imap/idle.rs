//! Waiting for new mail with IDLE (RFC 2177), on a session whose mailbox is selected.
//!
//! The imap crate's `Handle` drives the command: `IDLE`, then untagged responses until the
//! server reports `EXISTS` (RFC 3501 §7.3.1, a message arrived) or the read timeout passes,
//! then `DONE`. RFC 2177 §3 asks clients to re-issue IDLE at least every 29 minutes; the
//! caller picks a shorter timeout (it also wakes to deliver replies) and IDLEs again.

use std::time::{Duration, Instant};

use imap::extensions::idle::{SetReadTimeout, WaitOutcome};
use imap::types::UnsolicitedResponse;

use super::connect::{classify, Endpoint, ImapSession, ImapStream};
use super::error::ImapError;

/// Why an IDLE ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The mailbox grew: something new to fetch.
    NewMail,
    /// Nothing happened within the timeout.
    TimedOut,
}

/// Whether the server announces IDLE in its CAPABILITY (RFC 3501 §6.1.1).
pub fn supported(endpoint: &Endpoint, session: &mut ImapSession) -> Result<bool, ImapError> {
    session
        .capabilities()
        .map(|c| c.has_str("IDLE"))
        .map_err(|e| classify(endpoint, "asking for the server's capabilities", e))
}

/// IDLEs on the selected mailbox until the server reports new mail or `timeout` passes.
/// Afterwards the socket's read timeout is `endpoint.timeout` again.
pub fn wait(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    timeout: Duration,
) -> Result<Wake, ImapError> {
    // The whole wait, DONE included, ends by `timeout` plus one no-progress timeout, even
    // if the server keeps the connection busy with a drip of bytes.
    let limit = timeout + endpoint.timeout;
    session.stream_mut().set_deadline(Some(limit));
    let started = Instant::now();
    let outcome = {
        let mut handle = session.idle();
        // One IDLE per call: the caller decides what to do on a timeout.
        handle.timeout(timeout).keepalive(false);
        handle.wait_while(|response| !matches!(response, UnsolicitedResponse::Exists(_)))
        // Dropping the handle sends DONE and reads the tagged OK.
    };
    session.stream_mut().set_deadline(None);
    if started.elapsed() >= limit {
        // The crate reads the deadline as a quiet timeout; the session is out of step.
        return Err(ImapError::Deadline {
            host: endpoint.host.clone(),
            port: endpoint.port,
            seconds: limit.as_secs(),
            during: "waiting for new mail (IDLE)",
        });
    }
    match outcome {
        Ok(WaitOutcome::MailboxChanged) => Ok(Wake::NewMail),
        Ok(WaitOutcome::TimedOut) => Ok(Wake::TimedOut),
        Err(e) => Err(classify(endpoint, "waiting for new mail (IDLE)", e)),
    }
}

/// The imap crate sets the read timeout for the IDLE and clears it (`None`) afterwards.
/// The stream keeps it as its no-progress timeout; `None` puts back the endpoint's, so a
/// later read never blocks for ever on a dead connection.
impl SetReadTimeout for ImapStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> imap::Result<()> {
        self.set_idle(timeout);
        Ok(())
    }
}
