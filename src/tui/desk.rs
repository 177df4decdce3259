//! The desk's door to the core: what the store worker runs for each [`Request`]. Reads build
//! the view models the screens draw from the triage core's report detail and stats; writes
//! (in [`super::triage`]) call the triage core functions with the version the view loaded, so
//! a change from a stale view is refused, not applied.

use chrono::{DateTime, Utc};

use crate::core::config::{ClockConfig, Config};
use crate::core::model::{ReportId, ReportState};
use crate::core::stats::{self, Period};
use crate::core::store::queue::{QueueFilter, QueueOrder, QueuePage};
use crate::core::store::{parse_timestamp, Store};
use crate::core::triage::{self, ReportDetail, TriageError};

use super::action::{Action, Request};
use super::text;
use crate::core::outbox::{self, OutboxEntry, OutboxError};
use crate::core::reply;
use crate::mailio::delivery;
use crate::mailio::smtp::SmtpSetupError;

/// How to take one change back: handed to the triage core's `revert`.
pub type UndoToken = triage::Undo;

/// A message in the thread, or a team note, in the order they happened.
#[derive(Debug, Clone, PartialEq)]
pub enum ThreadItem {
    Mail(Box<triage::view::MessageView>),
    Note(triage::Note),
}

/// Everything the report view shows: the triage core's detail, with mail and notes merged
/// into one timeline and the next deadline picked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub report: ReportDetail,
    pub thread: Vec<ThreadItem>,
    pub deadline: Option<DateTime<Utc>>,
    /// Our replies to it still in the outbox (queued, being sent, or refused).
    pub outbox: Vec<OutboxEntry>,
    /// About how many lines the report view takes, so scrolling stops at the end.
    pub lines: u16,
}

impl Detail {
    pub fn id(&self) -> ReportId {
        self.report.id
    }
}

pub use crate::core::triage::Candidate;

/// How many reports the `d` picker lists, newest first.
const CANDIDATES: usize = 5000;

/// What the stats screen shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsData {
    /// ISO week (`YYYY-Www`) and the intake per class in it, oldest first.
    pub weekly: Vec<(String, Vec<(String, u64)>)>,
    pub by_state: Vec<(String, u64)>,
    /// Clock name, median hours (if any report has one), target hours, how many measured.
    pub response: Vec<(String, Option<f64>, f64, u64)>,
    /// How many open reports are overdue, and the most overdue of them: id, subject, deadline.
    pub overdue_count: usize,
    pub overdue: Vec<(ReportId, String, DateTime<Utc>)>,
}

/// How many overdue reports the stats screen lists.
const OVERDUE_SHOWN: usize = 50;

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
            } => self.compose(report_id, template.as_deref()),
            Request::QueueReply(draft) => {
                match outbox::queue_draft(&self.config, &self.store, &draft) {
                    Ok((outbox_id, _)) => Action::ReplyQueued {
                        outbox_id,
                        report_id: draft.report_id,
                    },
                    Err(e) => Action::Failed(text::compose_failed(&e.to_string())),
                }
            }
            Request::OutboxCount => match outbox::pending(&self.store) {
                Ok(rows) => Action::OutboxCount(rows.len()),
                Err(e) => Action::Failed(text::store_error(&e.to_string())),
            },
            Request::TabCounts(tabs) => {
                let counted: Result<Vec<_>, _> =
                    tabs.iter().map(|f| self.store.queue_count(f)).collect();
                match counted {
                    Ok(counts) => Action::TabCounts(counts),
                    Err(e) => Action::Failed(text::store_error(&e.to_string())),
                }
            }
            Request::Deliver(id) => deliver(&self.config, &mut self.store, id),
            Request::EditReply(_) => Action::ReplyEdited(Err(text::EDITOR_NOT_HERE.into())),
            other => self.run(now, other).unwrap_or_else(|e| match e {
                // The CLI's hint (`secdesk list`) means nothing where the queue is on screen.
                TriageError::NoSuchReport(id) => Action::Failed(text::no_such_report(id)),
                e => Action::Failed(text::store_error(&e.to_string())),
            }),
        }
    }

    /// The draft for `r`: refused up front when there is no `[smtp]` to send it with.
    fn compose(&self, report_id: ReportId, template: Option<&str>) -> Action {
        if self.config.smtp.is_none() {
            let e = SmtpSetupError::NotConfigured {
                path: self.config.source.clone(),
            };
            return Action::ReplyComposed(Err(text::compose_failed(&e.to_string())));
        }
        Action::ReplyComposed(
            reply::compose(&self.config, &self.store, report_id, template)
                .map(Box::new)
                .map_err(|e| text::compose_failed(&e.to_string())),
        )
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
                let version = self.store.data_version()?;
                let page = match &self.count {
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
                };
                Action::QueueLoaded { generation, page }
            }
            Request::Report(id) => {
                Action::ReportLoaded(Box::new(load_detail(&self.store, clocks, now, id)?))
            }
            Request::Stats => Action::StatsLoaded(Box::new(load_stats(&self.store, clocks, now)?)),
            Request::Candidates(id) => {
                Action::CandidatesLoaded(id, candidates(&self.store, CANDIDATES)?)
            }
            Request::ComposeReply { .. }
            | Request::QueueReply(_)
            | Request::OutboxCount
            | Request::TabCounts(_)
            | Request::Deliver(_)
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

/// Attempts outbox row `outbox_id` now (SMTP, then the Sent copy) and says what happened.
pub fn deliver(config: &Config, store: &mut Store, outbox_id: i64) -> Action {
    Action::ReplyDelivered(
        delivery::deliver_one(config, store, outbox_id)
            .map(Box::new)
            .map_err(|e| text::delivery_failed(&e.to_string())),
    )
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
            .filter(|o| o.state != outbox::state::SENT && o.state != outbox::state::DISCARDED)
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
    Ok(Detail {
        outbox: unsent,
        lines: lines.min(u16::MAX as usize) as u16,
        thread: timeline.into_iter().map(|(_, item)| item).collect(),
        deadline,
        report,
    })
}

/// The stats screen's figures: the triage core's stats for all time, and the overdue list
/// from the queue sorted by deadline (most overdue first).
pub fn load_stats(
    store: &Store,
    clocks: &ClockConfig,
    now: DateTime<Utc>,
) -> Result<StatsData, TriageError> {
    let s = stats::compute(store, Period::default(), clocks, now)?;
    let weekly = s
        .weekly
        .iter()
        .map(|w| {
            (
                w.week.clone(),
                vec![
                    ("spam".to_string(), w.spam as u64),
                    ("invalid".to_string(), w.invalid as u64),
                    ("valid".to_string(), w.valid as u64),
                ],
            )
        })
        .collect();
    let by_state = s
        .by_state
        .iter()
        .map(|(k, v)| (k.clone(), *v as u64))
        .collect();
    let response = vec![
        (
            "first response".to_string(),
            s.time_to_first_response.median_hours,
            clocks.acknowledge_days * 24.0,
            s.time_to_first_response.count as u64,
        ),
        (
            "triage".to_string(),
            s.time_to_triage.median_hours,
            clocks.triage_days * 24.0,
            s.time_to_triage.count as u64,
        ),
        (
            "close".to_string(),
            s.time_to_close.median_hours,
            clocks.close_days * 24.0,
            s.time_to_close.count as u64,
        ),
    ];
    let open = QueueFilter {
        exclude_states: ReportState::ALL
            .iter()
            .filter(|s| s.is_closed())
            .map(|s| s.to_string())
            .collect(),
        order: QueueOrder::Deadline,
        ..Default::default()
    };
    let page = store.queue_page(&open, clocks, 0, OVERDUE_SHOWN)?;
    let overdue = page
        .rows
        .into_iter()
        .filter_map(|r| {
            r.deadline
                .filter(|d| *d < now)
                .map(|d| (r.summary.id, r.summary.subject, d))
        })
        .collect();
    Ok(StatsData {
        weekly,
        by_state,
        response,
        overdue_count: s.overdue,
        overdue,
    })
}
