//! Composing replies to reporters, without any network: which message is answered, who it
//! goes to, the threading headers (RFC 5322 §3.6.4), the body from a template, and the
//! editable [`Draft`] the front ends show in `$EDITOR`.
//!
//! The flow shared by the CLI (`secdesk reply`) and the TUI (`r`):
//! [`compose`] → (optional) [`buffer::to_buffer`] / editor / [`buffer::apply_buffer`] →
//! [`message::build`] for the preview → `core::outbox::queue` → `mailio::delivery`.

pub mod buffer;
pub mod message;
pub mod recipients;
pub mod state_change;
pub mod template;
pub mod threading;

use serde::{Deserialize, Serialize};

use crate::core::config::Config;
use crate::core::model::ReportId;
use crate::core::parse::{Mailbox, ParsedMessage};
use crate::core::sanitize::HeaderInjection;
use crate::core::store::{Store, StoreError};

pub use template::{Placeholders, StateChange, Template, TemplateError, Templates};

/// Why a reply could not be composed or built. Each says what to change.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("report #{0} has no messages to reply to")]
    NoMessages(ReportId),
    #[error(transparent)]
    HeaderInjection(#[from] HeaderInjection),
    #[error(
        "{field} address {value:?} is not a valid mail address ({reason}): correct or remove it"
    )]
    BadAddress {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("the reply has no recipient (a report whose sender is not one plain address gives none): add an address to the To line, or name it with --to ADDRESS")]
    NoRecipients,
    #[error(
        "the reply would go to {count} addresses, more than [reply] max_recipients = {max}: confirm them at the preview (without --yes), name them with --to, or remove some"
    )]
    TooManyRecipients { count: usize, max: usize },
    #[error("the reply's subject is empty: write a Subject line")]
    EmptySubject,
    #[error("the reply's body is empty: write something before sending")]
    EmptyBody,
    #[error("in the edited reply, line {line}: {message}")]
    Buffer { line: usize, message: String },
    #[error("the reply could not be formatted as mail: {0}")]
    Format(String),
}

/// A reply being written: everything the user may change, plus the threading headers they
/// may not. Message-ID and Date are given when the reply is queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub report_id: ReportId,
    /// The template it started from, if any.
    pub template: Option<String>,
    /// Applied to the report once the reply has been sent.
    pub state_change: Option<StateChange>,
    /// `Name <addr>` of `[identity]`.
    pub from: String,
    /// `Name <addr>` entries, as shown on the editor's To line.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// The Message-ID answered, without angle brackets.
    pub in_reply_to: Option<String>,
    /// Ids without angle brackets, oldest first.
    pub references: Vec<String>,
    pub body: String,
    /// Other senders in the thread (lowercase addresses), not addressed: they can be chosen
    /// only explicitly (`secdesk reply --to`).
    #[serde(default)]
    pub other_senders: Vec<String>,
    /// A message of the report came PGP-encrypted: its reply (and the quote in it) must not
    /// go out readable unless the user said so ([`Draft::unencrypted_ok`]).
    #[serde(default)]
    pub report_encrypted: bool,
    /// The user agreed to send this reply readable though the report came encrypted
    /// (`secdesk reply --unencrypted`, or `y` on a preview that said it would go readable).
    #[serde(default)]
    pub unencrypted_ok: bool,
}

/// Used when no template is chosen.
const BLANK: &str =
    "Hello {reporter_name},\n\n\n\nBest regards,\n{my_name}\n{signature}\n\n{quote}\n";

/// Most lines of the original quoted in a reply; the rest is marked as cut.
const MAX_QUOTE_LINES: usize = 100;

/// Composes a reply to report `report_id`, from template `template` (a name looked up in
/// the config directory's `templates/`, then the shipped set) or a blank greeting.
///
/// The reply goes to the reporter, Cc the team address ([`recipients`]).
pub fn compose(
    config: &Config,
    store: &Store,
    report_id: ReportId,
    template: Option<&str>,
) -> Result<Draft, ReplyError> {
    compose_to(config, store, report_id, template, &[])
}

/// [`compose`], addressed to `to` instead of the reporter when it is not empty: addresses
/// the user named explicitly (`secdesk reply --to`), each `addr` or `Name <addr>`.
pub fn compose_to(
    config: &Config,
    store: &Store,
    report_id: ReportId,
    template: Option<&str>,
    to: &[String],
) -> Result<Draft, ReplyError> {
    let tpl = match template {
        Some(name) => Templates::new(&config.dir()).load(name)?,
        None => Template::parse("(blank)", "built in", BLANK)?,
    };
    let mut explicit = Vec::new();
    for value in to {
        explicit.extend(buffer::parse_addresses("--to", value)?);
    }
    let ours = our_addresses(config);
    let addressing =
        recipients::address(store, report_id, &explicit, &ours, config.team_address())?;
    let parent = &addressing.parent;
    let to: Vec<String> = addressing
        .to
        .iter()
        .map(|m| message::format_mailbox(m.name.as_deref(), &m.addr))
        .collect();
    let values = Placeholders {
        reporter_name: greeting_name(addressing.to.first()),
        report_id: report_id.to_string(),
        subject: threading::base_subject(&parent.subject),
        my_name: config.identity.name.clone(),
        quote: quote(parent),
        signature: config.reply.signature.clone().unwrap_or_default(),
    };
    let body = render_body(&tpl, &values, config);
    Ok(Draft {
        report_id,
        template: template.map(str::to_string),
        state_change: tpl.state_change,
        from: message::format_mailbox(Some(&config.identity.name), &config.identity.email),
        to,
        cc: addressing.cc.clone(),
        subject: threading::reply_subject(&parent.subject),
        in_reply_to: parent
            .message_id
            .clone()
            .filter(|id| message::is_valid_id(id)),
        references: reply_references(parent),
        body,
        other_senders: addressing.other_senders,
        report_encrypted: came_encrypted(store, report_id)?,
        unencrypted_ok: false,
    })
}

/// Whether a message the report received came PGP-encrypted (`messages.pgp`, as ingest
/// recorded it, whether or not gpg could open it).
pub fn came_encrypted(store: &Store, report_id: ReportId) -> Result<bool, ReplyError> {
    let found = store.conn().query_row(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE report_id = ?1 AND direction = 'in'
             AND pgp IS NOT NULL AND json_extract(pgp, '$.encrypted') = 1)",
        [report_id],
        |r| r.get(0),
    );
    Ok(found.map_err(StoreError::from)?)
}

/// Who the greeting names: the first recipient's display name (flattened and cut as in the
/// To header), else the address, else "there".
fn greeting_name(first: Option<&Mailbox>) -> String {
    first
        .map(|m| {
            m.name
                .as_deref()
                .map(|n| threading::shorten(&flatten(n), message::MAX_NAME_CHARS))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| m.addr.clone())
        })
        .unwrap_or_else(|| "there".to_string())
}

/// The template filled in, with `[reply] signature` added at the end when the template does
/// not place it itself; one line break at the end.
fn render_body(tpl: &Template, values: &Placeholders, config: &Config) -> String {
    let mut body = tpl.render(values);
    if !tpl.uses("signature") {
        if let Some(sig) = config.reply.signature.as_deref().filter(|s| !s.is_empty()) {
            body = format!("{}\n\n{sig}\n", body.trim_end());
        }
    }
    format!("{}\n", body.trim_end())
}

/// The reply's References (RFC 5322 \u{a7}3.6.4): the parent's, then the parent, keeping
/// only well-formed ids so a hostile one never reaches a header we send.
fn reply_references(parent: &ParsedMessage) -> Vec<String> {
    threading::reply_references(
        parent.message_id.as_deref(),
        &parent.references,
        &parent.in_reply_to,
    )
    .into_iter()
    .filter(|id| message::is_valid_id(id))
    .collect()
}

/// Refuses a reply to more than `[reply] max_recipients` addresses (To and Cc together);
/// front ends call it unless the user confirmed or named the addresses on the command line.
pub fn check_recipient_limit(config: &Config, draft: &Draft) -> Result<(), ReplyError> {
    let count = draft.to.len() + draft.cc.len();
    let max = config.reply.max_recipients;
    if count > max {
        return Err(ReplyError::TooManyRecipients { count, max });
    }
    Ok(())
}

/// The team's own addresses, in their comparison form (`core::address::key`): never the reporter, never a duplicate Cc.
pub fn our_addresses(config: &Config) -> Vec<String> {
    let mut ours: Vec<String> = config
        .members()
        .iter()
        .map(|m| crate::core::address::key(&m.email))
        .collect();
    ours.extend(
        config
            .team
            .address
            .iter()
            .map(|a| crate::core::address::key(a)),
    );
    ours.extend(config.reply.cc.iter().map(|a| crate::core::address::key(a)));
    ours
}

/// One line for a header or a placeholder: control characters (CR, LF, ESC, NUL…) become
/// spaces and whitespace runs collapse to one space.
pub fn flatten(s: &str) -> String {
    // Hidden characters (bidi overrides, zero-width ones) are dropped: in a header sent to
    // the reporter, `Rita U+202E tset.live@rekcatta` reads as `Rita attacker@evil.test`.
    let spaced: String = s
        .chars()
        .filter(|&c| !crate::core::sanitize::is_hidden(c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `On DATE, NAME wrote:` and the message's text, each line prefixed with `> `.
/// The quote goes into an editor: control characters from the mail are dropped and hidden
/// characters shown as `<U+XXXX>` (`core::sanitize::quoted_text`).
fn quote(m: &ParsedMessage) -> String {
    let who = m
        .from
        .as_ref()
        .map(|f| crate::core::sanitize::quoted_text(&flatten(&f.display())))
        .unwrap_or_else(|| "the reporter".to_string());
    let intro = match m.date {
        Some(d) => format!("On {}, {who} wrote:", d.format("%a, %-d %b %Y %H:%M UTC")),
        None => format!("{who} wrote:"),
    };
    let clean = crate::core::sanitize::quoted_text(&m.body_text);
    let lines: Vec<&str> = clean.trim_end().lines().collect();
    let mut out = vec![intro];
    for line in lines.iter().take(MAX_QUOTE_LINES) {
        out.push(if line.is_empty() {
            ">".to_string()
        } else {
            format!("> {line}")
        });
    }
    if lines.len() > MAX_QUOTE_LINES {
        out.push(format!(
            "> [... {} more lines]",
            lines.len() - MAX_QUOTE_LINES
        ));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests;
