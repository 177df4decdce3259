//! `K` in the report view: import the public key the reporter attached (issue 16), as
//! `secdesk pgp import-key` does, after a confirmation that shows the fingerprint and user
//! ids. The steps, each an action answering the request before:
//!
//! ```text
//! K → FindKeys (store worker: mailio::pgp_keys::offers, gpg --show-keys)
//!   → KeysOffered → a question naming the first importable key; `y` → ImportKey
//!   → store worker: mailio::pgp_keys::import → KeyImported → the status line
//! ```
//!
//! Nothing is imported without the `y`; a secret key or the team key is never offered.

use super::action::{Action, Request};
use super::app::{Confirm, OnYes, Overlay, State};
use super::text;
use crate::core::config::Config;
use crate::core::pgp::keys::grouped;
use crate::core::store::Store;
use crate::mailio::pgp_keys::{self, Offer};

/// `K` on the open report (or the one under the cursor).
pub fn start(state: &mut State) -> Vec<Request> {
    let Some(&(id, _)) = state.targets(false).first() else {
        state.info(text::NO_REPORT);
        return Vec::new();
    };
    state.info(format!("report #{id}: looking for an attached public key…"));
    vec![Request::FindKeys(id)]
}

/// The store worker's side of [`Request::FindKeys`].
pub fn find(config: &Config, store: &Store, id: i64) -> Action {
    Action::KeysOffered(id, pgp_keys::offers(config, store.conn(), id))
}

/// The store worker's side of [`Request::ImportKey`].
pub fn import(config: &Config, offer: &Offer) -> Action {
    Action::KeyImported(pgp_keys::import(config, offer).map(|fprs| {
        let keys: Vec<String> = fprs.iter().map(|f| grouped(f)).collect();
        let unusable: Vec<&str> = offer
            .keys
            .iter()
            .filter(|k| fprs.contains(&k.fingerprint))
            .filter_map(|k| k.unusable())
            .collect();
        // Only a usable key lets replies be encrypted; an expired or revoked one cannot.
        if unusable.len() < fprs.len() {
            format!(
                "imported {} into the team keyring: replies to its address can now be encrypted",
                keys.join(", ")
            )
        } else {
            format!(
                "imported {} into the team keyring, but it is {}: replies cannot be encrypted to it; ask the reporter for a current key",
                keys.join(", "),
                unusable.join(", ")
            )
        }
    }))
}

/// The answers: a question for the first importable key, or what went wrong.
pub fn on_action(state: &mut State, action: Action) -> Vec<Request> {
    match action {
        Action::KeysOffered(id, Ok(offers)) => {
            let Some(offer) = offers.iter().find(|o| o.problem.is_none()) else {
                let why = offers
                    .iter()
                    .find_map(|o| {
                        o.problem
                            .as_ref()
                            .map(|p| format!("attachment {}: {p}", o.source))
                    })
                    .unwrap_or_else(|| "no public key is attached".into());
                state.error(format!("report #{id}: nothing to import: {why}"));
                return Vec::new();
            };
            let more = offers.iter().filter(|o| o.problem.is_none()).count() - 1;
            let mut question = offer.describe().join(" ");
            if more > 0 {
                question.push_str(&format!(
                    " ({more} more: `secdesk pgp import-key {id}` lists them)"
                ));
            }
            question.push_str(if offer.already.is_empty() {
                " Import into the team keyring? y/N"
            } else {
                " Import it as a SECOND key for this address? y/N"
            });
            state.overlay = Overlay::Confirm(Confirm {
                question,
                on_yes: OnYes::Requests(vec![Request::ImportKey(Box::new(offer.clone()))], None),
            });
            Vec::new()
        }
        Action::KeysOffered(id, Err(e)) => {
            state.error(format!("report #{id}: {e}"));
            Vec::new()
        }
        Action::KeyImported(Ok(line)) => {
            state.info(line);
            Vec::new()
        }
        Action::KeyImported(Err(e)) => {
            state.error(format!("key not imported: {e}"));
            Vec::new()
        }
        _ => Vec::new(),
    }
}
