//! The desk's door to the core: what the store worker runs for each [`Request`]. Reads build
//! the view models the screens draw from the triage core's report detail and stats; writes
//! (in [`super::triage`]) call the triage core functions with the version the view loaded, so
//! a change from a stale view is refused, not applied.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::core::advisory::{self, embargo};
use crate::core::classify::similar::Similar;
use crate::core::pep811;

use crate::core::config::{ClockConfig, Config};
use crate::core::model::ReportId;
use crate::core::store::queue::{QueueFilter, QueuePage};
use crate::core::store::{parse_timestamp, Store};
use crate::core::triage::{self, Candidate, TriageError};

use super::action::{Action, ReplyCheck, Request};
use super::text;
use crate::core::outbox::{self, OutboxEntry, OutboxError};
use crate::core::reply;
use crate::core::reply::Draft;
use crate::mailio::delivery;
use crate::mailio::smtp::SmtpSetupError;

use super::stats_data::load_stats;
use super::view_model::{Detail, ThreadItem};

/// How many reports the `d` picker lists, newest first.
const CANDIDATES: usize = 5000;

/// The store worker's side of the desk: its own connection, and the count of the queue on
/// screen, kept while nothing changed so scrolling a large queue does not count it again.
pub struct Session {
    pub store: Store,
    pub config: Config,
    /// The filter counted, the `data_version` it was counted at, and the count.
    count: Option<(QueueFilter, i64, usize)>,
}

impl Session {
    pub fn new(store: Store, config: Config) -> Session {
        Session {
            store,
            config,
            count: None,
        }
    }

    /// Runs one request at time `now` and says what happened, as the action to feed back.
    /// [`Request::Deliver`] blocks on SMTP: the desk's store worker hands it to the delivery
    /// worker instead (tests run it here).
    pub fn handle(&mut self, now: DateTime<Utc>, request: Request) -> Action {
        match request {
            Request::ComposeReply {
                report_id,
                template,
            } => self.compose_reply(now, report_id, template.as_deref()),
            Request::ReplyStarted(id) => {
                super::team::start(&self.config, &mut self.store, id, now);
                Action::ReplyStarted
            }
            Request::QueueReply(draft) => self.queue_reply(&draft),
            Request::CheckReply(draft) => check_reply(&self.config, draft),
            Request::ReplyAbandoned(id) => {
                super::team::end(&self.config, &mut self.store, id, false);
                Action::ReplyAbandoned
            }
            // The desk hands these to its held worker; tests run them here.
            Request::HeldFetch => super::held::fetch(&self.config, &mut self.store),
            Request::Moderate(post, action, comment) => super::held::moderate(
                &self.config,
                &mut self.store,
                &post,
                action,
                comment.as_deref(),
            ),
            Request::RejectReasons(post) => super::held::reasons(&self.config, post),
            // Synchronous here: the progress is only seen on the desk's held worker.
            Request::HeldSweep(posts) => {
                super::held::sweep(&self.config, &mut self.store, &posts, |_, _| {})
            }
            Request::EditRejectReason(_) => {
                Action::RejectReasonEdited(Err(text::EDITOR_NOT_HERE.into()))
            }
            Request::OutboxCount => match outbox::pending(&self.store) {
                Ok(rows) => Action::OutboxCount(rows.len()),
                Err(e) => Action::Failed(text::store_error(&e, self.store.path())),
            },
            Request::TabCounts(tabs) => {
                let counted: Result<Vec<_>, _> =
                    tabs.iter().map(|f| self.store.queue_count(f)).collect();
                match counted {
                    Ok(counts) => Action::TabCounts(counts),
                    Err(e) => Action::Failed(text::store_error(&e, self.store.path())),
                }
            }
            Request::Deliver(id) => deliver(&self.config, &mut self.store, id),
            Request::EditReply(_) => Action::ReplyEdited(Err(text::EDITOR_NOT_HERE.into())),
            Request::AdvisoryForm(id) => super::advisory::load_form(&self.store, id),
            Request::FindKeys(id) => super::pgp_keys::find(&self.config, &self.store, id),
            Request::ImportKey(offer) => super::pgp_keys::import(&self.config, &offer),
            Request::EditAdvisory(form) => {
                Action::AdvisoryEdited(form, Err(text::EDITOR_NOT_HERE.into()))
            }
            Request::SaveAdvisory(form) => {
                self.count = None;
                super::advisory::save(&mut self.store, &self.config, now, form)
            }
            other => self
                .run(now, other)
                .unwrap_or_else(|e| Action::Failed(text::triage_error(&e, self.store.path()))),
        }
    }

    /// The draft for `report_id`, with the line saying so when another member is already
    /// replying. Someone else answering: the desk asks before the editor opens, and records
    /// the start only on yes ([`Request::ReplyStarted`]); otherwise it is recorded now.
    fn compose_reply(
        &mut self,
        now: DateTime<Utc>,
        report_id: ReportId,
        template: Option<&str>,
    ) -> Action {
        let composed = self.compose(report_id, template);
        // A reply of ours still sending or unconfirmed may reach the reporter any moment:
        // asked about as another member's reply is.
        let unsettled = || {
            outbox::unsettled_for_report(&self.store, report_id)
                .ok()
                .and_then(|mut rows| rows.pop())
                .map(|row| text::unsettled_reply(row.id, row.state))
        };
        let warning = composed
            .is_ok()
            .then(|| {
                unsettled().or_else(|| {
                    super::team::other_replying(&self.config, &self.store, report_id, now)
                })
            })
            .flatten();
        if composed.is_ok() && warning.is_none() {
            super::team::start(&self.config, &mut self.store, report_id, now);
        }
        Action::ReplyComposed(composed, warning)
    }

    /// Puts the previewed draft into the outbox, and ends our reply in progress on it. The
    /// demo sends nothing: it says who the reply would have gone to.
    fn queue_reply(&mut self, draft: &Draft) -> Action {
        if self.config.demo {
            return Action::ReplyNotSentInDemo {
                report_id: draft.report_id,
                to: draft.to.join(", "),
            };
        }
        match outbox::queue_draft(&self.config, &self.store, draft) {
            Ok((outbox_id, _)) => {
                super::team::end(&self.config, &mut self.store, draft.report_id, true);
                Action::ReplyQueued {
                    outbox_id,
                    report_id: draft.report_id,
                }
            }
            Err(e) => Action::Failed(text::compose_failed(&e.to_string())),
        }
    }

    /// The draft for `r`: refused up front when there is no `[smtp]` to send it with (the
    /// demo, which sends nothing, writes one all the same).
    fn compose(&self, report_id: ReportId, template: Option<&str>) -> Result<Box<Draft>, String> {
        if self.config.smtp.is_none() && !self.config.demo {
            let e = SmtpSetupError::NotConfigured {
                path: self.config.source.clone(),
            };
            return Err(text::compose_failed(&e.to_string()));
        }
        reply::compose(&self.config, &self.store, report_id, template)
            .map(Box::new)
            .map_err(|e| text::compose_failed(&e.to_string()))
    }

    /// One page of the queue under `filter`; its total is counted again only when the
    /// filter or the store's `data_version` changed since the last count.
    fn queue_page(
        &mut self,
        filter: QueueFilter,
        offset: usize,
        limit: usize,
    ) -> Result<QueuePage, TriageError> {
        let clocks = &self.config.clocks;
        let version = self.store.data_version()?;
        Ok(match &self.count {
            Some((f, v, total)) if *f == filter && *v == version => QueuePage {
                total: *total,
                offset,
                rows: self.store.queue_rows(&filter, clocks, offset, limit)?,
            },
            _ => {
                let page = self.store.queue_page(&filter, clocks, offset, limit)?;
                self.count = Some((filter, version, page.total));
                page
            }
        })
    }

    /// The marks of `page`'s rows: who is replying to a report, before its clock marks.
    fn queue_marks(
        &self,
        page: &QueuePage,
        now: DateTime<Utc>,
    ) -> Result<HashMap<ReportId, String>, TriageError> {
        let mut marks = clock_marks(&self.store, page, now)?;
        for row in &page.rows {
            let id = row.summary.id;
            if let Some(line) = super::team::replying(&self.config, &self.store, id, now) {
                let mark = marks.remove(&id);
                marks.insert(id, mark.map_or(line.clone(), |m| format!("{line} · {m}")));
            }
        }
        Ok(marks)
    }

    fn run(&mut self, now: DateTime<Utc>, request: Request) -> Result<Action, TriageError> {
        let clocks = &self.config.clocks.clone();
        Ok(match request {
            Request::Queue {
                generation,
                filter,
                offset,
                limit,
            } => {
                let page = self.queue_page(filter, offset, limit)?;
                let marks = self.queue_marks(&page, now)?;
                Action::QueueLoaded {
                    generation,
                    page,
                    marks,
                }
            }
            Request::Report(id) => {
                let mut detail = load_detail(&self.store, clocks, now, id)?;
                detail.replying = super::team::replying(&self.config, &self.store, id, now);
                Action::ReportLoaded(Box::new(detail))
            }
            Request::Stats => Action::StatsLoaded(Box::new(load_stats(
                &self.store,
                clocks,
                &self.config.members(),
                self.config.stats_zone(),
                now,
            )?)),
            Request::Candidates(id) => {
                let similar = similar(&self.store, id);
                Action::CandidatesLoaded(id, candidates(&self.store, CANDIDATES)?, similar)
            }
            Request::ComposeReply { .. }
            | Request::QueueReply(_)
            | Request::CheckReply(_)
            | Request::ReplyAbandoned(_)
            | Request::ReplyStarted(_)
            | Request::HeldFetch
            | Request::Moderate(..)
            | Request::RejectReasons(_)
            | Request::EditRejectReason(_)
            | Request::HeldSweep(_)
            | Request::OutboxCount
            | Request::TabCounts(_)
            | Request::Deliver(_)
            | Request::AdvisoryForm(_)
            | Request::FindKeys(_)
            | Request::ImportKey(_)
            | Request::EditAdvisory(_)
            | Request::SaveAdvisory(_)
            | Request::EditReply(_) => Action::Failed(text::EDITOR_NOT_HERE.into()),
            Request::Triage(batch) => {
                // Our own commits do not move this connection's data_version.
                self.count = None;
                Action::Applied(super::triage::apply(
                    &mut self.store,
                    &self.config,
                    now,
                    batch,
                ))
            }
            Request::Undo(entry) => {
                self.count = None;
                Action::Applied(super::triage::undo(
                    &mut self.store,
                    &self.config,
                    now,
                    entry,
                ))
            }
        })
    }
}

/// The reply preview's checks, as `secdesk reply` makes them: the envelope as built, whether
/// it will be encrypted (this runs gpg: the store worker's job, never the UI thread's) and
/// the recipient limit.
pub fn check_reply(config: &Config, draft: Box<Draft>) -> Action {
    let built = reply::message::build(
        &draft,
        &reply::message::new_message_id("preview.invalid"),
        Utc::now(),
    );
    let recipients = match &built {
        Ok(b) => b.recipients.clone(),
        // The preview already says what is wrong with the draft; count what it names.
        Err(_) => draft.to.iter().chain(&draft.cc).cloned().collect(),
    };
    let sealing = built
        .is_ok()
        .then(|| crate::mailio::gpg::sealing(config, &recipients));
    let check = ReplyCheck {
        recipients: recipients.len(),
        sealing: sealing.as_ref().and_then(|s| s.line()),
        readable: sealing
            .as_ref()
            .filter(|_| draft.report_encrypted)
            .and_then(|s| s.readable_because()),
        over_limit: reply::check_recipient_limit(config, &draft)
            .err()
            .map(|e| e.to_string()),
    };
    Action::ReplyChecked(draft, check)
}

/// Attempts outbox row `outbox_id` now (SMTP, then the Sent copy) and says what happened.
pub fn deliver(config: &Config, store: &mut Store, outbox_id: i64) -> Action {
    Action::ReplyDelivered(
        delivery::deliver_one(config, store, outbox_id)
            .map(Box::new)
            .map_err(|e| text::delivery_failed(&e.to_string())),
    )
}

/// The queue's marks for the rows of `page` (issue 15): the PEP 811 finish clock once 14
/// days or fewer are left (`advisory::embargo::finish_mark`) and the embargo countdown, as
/// `secdesk list` shows them.
pub fn clock_marks(
    store: &Store,
    page: &QueuePage,
    now: DateTime<Utc>,
) -> Result<HashMap<ReportId, String>, TriageError> {
    let embargoes = embargo::all(store.conn(), now)?;
    let mut out = HashMap::new();
    for row in &page.rows {
        let id = row.summary.id;
        let coordination = pep811::coordination(store.conn(), Some(id))?;
        let finish = coordination
            .get(&id)
            .and_then(|c| c.finish_due())
            .map(crate::core::store::timestamp);
        let mut parts: Vec<String> = Vec::new();
        parts.extend(embargo::finish_mark(finish.as_deref(), now));
        if let Some(e) = embargoes.get(&id) {
            parts.push(text::embargo_countdown(e.days_left));
        }
        if !parts.is_empty() {
            out.insert(id, parts.join(" · "));
        }
    }
    Ok(out)
}

/// The classifier's similar earlier reports (issue 12), best first. They are a suggestion:
/// when they cannot be worked out the report view and `d` go on without them.
pub fn similar(store: &Store, id: ReportId) -> Vec<Similar> {
    crate::core::classify::similar::similar_reports(store.conn(), id).unwrap_or_default()
}

/// The newest `limit` reports, for the `d` picker.
pub fn candidates(store: &Store, limit: usize) -> Result<Vec<Candidate>, TriageError> {
    Ok(triage::candidates(store, limit)?
        .into_iter()
        .map(|c| Candidate {
            subject: crate::core::sanitize::terminal_line(&c.subject),
            ..c
        })
        .collect())
}

/// Reads one report whole, through the triage core.
pub fn load_detail(
    store: &Store,
    clocks: &ClockConfig,
    now: DateTime<Utc>,
    id: ReportId,
) -> Result<Detail, TriageError> {
    let report = triage::report_detail(store, id, clocks, now)?;
    // Sent replies are in the thread already; the rest still needs someone's attention.
    let unsent: Vec<OutboxEntry> = match outbox::for_report(store, id) {
        Ok(rows) => rows
            .into_iter()
            .filter(|o| {
                o.state != outbox::OutboxState::Sent && o.state != outbox::OutboxState::Discarded
            })
            .collect(),
        Err(OutboxError::Store(e)) => return Err(e.into()),
        // A plain read fails only in the store.
        Err(_) => Vec::new(),
    };
    let mut timeline: Vec<(String, ThreadItem)> = report
        .messages
        .iter()
        .map(|m| (m.received_at.clone(), ThreadItem::Mail(Box::new(m.clone()))))
        .chain(
            report
                .notes
                .iter()
                .map(|n| (n.at.clone(), ThreadItem::Note(n.clone()))),
        )
        .collect();
    // Stable: mail and a note at the same second keep the mail first.
    timeline.sort_by(|a, b| a.0.cmp(&b.0));
    let d = &report.deadlines;
    let deadline = [&d.acknowledge, &d.triage, &d.close]
        .into_iter()
        .flatten()
        .filter_map(|t| parse_timestamp(t))
        .min();
    let text_lines = |s: &str| s.lines().count() + 1;
    let lines = 24
        + report.classifier.reasons.len()
        + report.events.len()
        + report
            .messages
            .iter()
            .map(|m| 8 + m.attachments.len() + text_lines(&m.body))
            .sum::<usize>()
        + report
            .notes
            .iter()
            .map(|n| 2 + text_lines(&n.text))
            .sum::<usize>();
    let lines = lines
        + if unsent.is_empty() {
            0
        } else {
            2 + unsent.len()
        };
    let embargo = embargo::embargo(&advisory::load(store.conn(), id)?, now);
    Ok(Detail {
        replying: None,
        similar: similar(store, id),
        finish_mark: embargo::finish_mark(report.deadlines.finish.as_deref(), now),
        embargo,
        outbox: unsent,
        lines: lines.min(u16::MAX as usize) as u16,
        thread: timeline.into_iter().map(|(_, item)| item).collect(),
        deadline,
        report,
    })
}
