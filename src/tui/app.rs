//! The desk's whole state. Views draw from `&State` alone; only `update` changes it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::core::config::{ClockConfig, Identity};
use crate::core::model::{ReportId, ReportState};
use crate::core::store::queue::{QueueFilter, QueueOrder, QueuePage, QueueRow};

use super::action::UndoEntry;
pub use super::overlay::{
    fuzzy_score, Confirm, Follow, Input, InputPurpose, OnYes, Overlay, Picked, Picker,
    PickerChoice, PickerPurpose,
};
use super::stats_data::StatsData;
use super::view_model::Detail;
use crate::core::reply::Draft;

/// The queues a triager switches between with Tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Every report still `new` but the suspected spam, suggested spam (unsure) last. The
    /// desk opens here.
    NeedsTriage,
    /// `new` reports the classifier calls spam and nobody confirmed: `X s` here confirms
    /// exactly those (`core::store::queue::SUSPECTED_SPAM`).
    SuspectedSpam,
    /// Open reports I coordinate.
    Mine,
    /// Open reports nobody coordinates.
    Unassigned,
    Spam,
    Invalid,
    /// Closed for another reason: duplicate, resolved, disclosed.
    Closed,
    All,
}

impl Tab {
    pub const ALL: [Tab; 8] = [
        Tab::NeedsTriage,
        Tab::SuspectedSpam,
        Tab::Mine,
        Tab::Unassigned,
        Tab::Spam,
        Tab::Invalid,
        Tab::Closed,
        Tab::All,
    ];

    /// The tabs whose size the tab bar shows: the work waiting.
    pub const COUNTED: [Tab; 3] = [Tab::NeedsTriage, Tab::SuspectedSpam, Tab::Mine];

    pub fn title(self) -> &'static str {
        match self {
            Tab::NeedsTriage => "Needs triage",
            Tab::SuspectedSpam => "Suspected spam",
            Tab::Mine => "Mine",
            Tab::Unassigned => "Unassigned",
            Tab::Spam => "Spam quarantine",
            Tab::Invalid => "Invalid",
            Tab::Closed => "Closed",
            Tab::All => "All",
        }
    }

    /// The title on a narrow screen.
    pub fn short_title(self) -> &'static str {
        match self {
            Tab::NeedsTriage => "Triage",
            Tab::SuspectedSpam => "Suspect",
            Tab::Mine => "Mine",
            Tab::Unassigned => "Unasg",
            Tab::Spam => "Spam",
            Tab::Invalid => "Inval",
            Tab::Closed => "Closed",
            Tab::All => "All",
        }
    }

    /// The store filter behind the tab, for `me`.
    pub fn filter(self, me: &str) -> QueueFilter {
        let closed_states = || {
            ReportState::ALL
                .iter()
                .filter(|s| s.is_closed())
                .map(|s| s.to_string())
                .collect()
        };
        let states = |s: &[ReportState]| s.iter().map(|s| s.to_string()).collect();
        match self {
            Tab::NeedsTriage => QueueFilter {
                states: states(&[ReportState::New]),
                spam_last: true,
                suspected_spam: Some(false),
                ..Default::default()
            },
            Tab::SuspectedSpam => QueueFilter {
                suspected_spam: Some(true),
                ..Default::default()
            },
            Tab::Mine => QueueFilter {
                coordinator: Some(me.to_string()),
                exclude_states: closed_states(),
                ..Default::default()
            },
            Tab::Unassigned => QueueFilter {
                unassigned: true,
                exclude_states: closed_states(),
                ..Default::default()
            },
            Tab::Spam => QueueFilter {
                states: states(&[ReportState::Spam]),
                ..Default::default()
            },
            Tab::Invalid => QueueFilter {
                states: states(&[ReportState::Invalid]),
                ..Default::default()
            },
            Tab::Closed => QueueFilter {
                states: states(&[
                    ReportState::Duplicate,
                    ReportState::Resolved,
                    ReportState::Disclosed,
                ]),
                ..Default::default()
            },
            Tab::All => QueueFilter::default(),
        }
    }
}

/// Which full screen is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Queue,
    Report,
    Stats,
    /// The mailing list's hold queue (`H`).
    Held,
}

/// A reply being written with `r`: composed, then edited, then previewed until it is sent
/// or cancelled.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyFlow {
    pub draft: Draft,
    /// What the editor opens next: the draft as text, with the last problem noted on top.
    pub buffer: String,
    /// Why the draft cannot be sent as it stands; `y` is refused until `e` fixes it.
    pub problem: Option<String>,
    /// Showing the preview (false while the editor is open).
    pub previewing: bool,
    /// The store worker's checks of the draft as it stands (encryption, recipient limit);
    /// `None` until they are back. Sending waits for them.
    pub check: Option<super::action::ReplyCheck>,
    /// "Ada is replying (4 min) to report #1: …" when another member was already replying
    /// as this reply started.
    pub also_replying: Option<String>,
    pub scroll: u16,
}

/// A held post being rejected with `r`: its reasons (templates rendered for it) offered in a
/// picker, then the chosen text previewed (y sends, e edits in $EDITOR, n/Esc cancels).
#[derive(Debug, Clone, PartialEq)]
pub struct RejectFlow {
    pub post: Box<crate::core::moderation::ClassifiedPost>,
    pub reasons: Vec<crate::core::moderation::reject_reasons::Reason>,
    /// The template the reason came from, or `None` for the moderator's own words.
    pub template: Option<String>,
    /// The reason Mailman will mail to the sender, as it stands.
    pub reason: String,
    /// Showing the preview (false while the picker or the editor is open).
    pub previewing: bool,
    /// The preview's first row shown (j/k, Space, PgUp/PgDn scroll it).
    pub scroll: u16,
}

/// The status line: what the last action did, or what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// The loaded window of the current queue and where the cursor is in it.
#[derive(Debug, Clone, Default)]
pub struct QueueView {
    /// Bumped whenever the filter changes; pages for an older generation are dropped.
    pub generation: u64,
    pub page: QueuePage,
    /// Whether `page` belongs to this generation yet.
    pub loaded: bool,
    /// The cursor's position in the whole queue.
    pub cursor: usize,
    /// The position of the first visible line.
    pub top: usize,
    /// The window last asked for, so a scroll inside it asks for nothing.
    pub requested: Option<(usize, usize)>,
    /// The loaded reports' PEP 811 finish marks and embargo countdowns (issue 15).
    pub marks: std::collections::HashMap<ReportId, String>,
}

impl QueueView {
    /// The row at queue position `pos`, if that part of the queue is loaded.
    pub fn row(&self, pos: usize) -> Option<&QueueRow> {
        pos.checked_sub(self.page.offset)
            .and_then(|i| self.page.rows.get(i))
    }

    pub fn current(&self) -> Option<&QueueRow> {
        self.row(self.cursor)
    }

    /// The queue position of report `id`, if it is in the loaded part of the queue.
    pub fn position_of(&self, id: ReportId) -> Option<usize> {
        self.page
            .rows
            .iter()
            .position(|r| r.summary.id == id)
            .map(|i| i + self.page.offset)
    }
}

/// The desk.
pub struct State {
    /// The time ages and deadlines are measured against; tests fix it.
    pub now: DateTime<Utc>,
    pub me: Identity,
    pub members: Vec<Identity>,
    pub clocks: ClockConfig,
    pub screen: Screen,
    pub tab: Tab,
    pub order: QueueOrder,
    pub search: Option<String>,
    pub queue: QueueView,
    /// Selected reports, with the version each was selected at and its suggestion.
    pub selection: BTreeMap<ReportId, Picked>,
    /// The report open in the report view (or being loaded for it).
    pub report: Option<Box<Detail>>,
    pub report_id: Option<ReportId>,
    pub report_scroll: u16,
    /// Whether the report view unfolds the classifier's reasons.
    pub show_reasons: bool,
    /// The text searched for in the report view, for n/N.
    pub find: Option<String>,
    /// The report line of the current match.
    pub find_at: Option<usize>,
    pub stats: Option<Box<StatsData>>,
    /// The stats screen's chart by month instead of by week (`m`).
    pub stats_monthly: bool,
    /// The first overdue report the stats screen lists (j/k scroll the list).
    pub stats_scroll: usize,
    /// The held posts last fetched (or why not), the cursor among them, and whether a
    /// fetch is on its way.
    pub held: Option<Result<Vec<crate::core::moderation::ClassifiedPost>, String>>,
    /// What the last listing could not show, said above the posts (`ListingGap`).
    pub held_gaps: Vec<crate::core::moderation::gaps::ListingGap>,
    pub held_cursor: usize,
    pub held_loading: bool,
    /// A reject under way (`r` on the held screen).
    pub held_reject: Option<RejectFlow>,
    /// A sweep under way (`S`): how many of how many spam posts are done.
    pub held_sweep: Option<(usize, usize)>,
    pub overlay: Overlay,
    pub status: Option<Status>,
    /// The last sync's outcome, shown at the right of the status line.
    pub sync: Option<Result<String, String>>,
    /// The mailboxes a sync round is working on now ("INBOX"), shown until it ends.
    pub syncing: Option<String>,
    pub undo: Vec<UndoEntry>,
    /// How many reports the counted tabs hold ([`Tab::COUNTED`]), once counted.
    pub tab_counts: Vec<(Tab, usize)>,
    /// The last status lines, oldest first (`L` shows them).
    pub messages: std::collections::VecDeque<String>,
    /// A count typed before a motion (`5j`).
    pub count: Option<usize>,
    /// Where the cursor goes when the change on its way lands.
    pub follow: Option<Follow>,
    /// The report under the queue's cursor when the store changed under it (new mail,
    /// another desk), and the one after it: the reload puts the cursor back on it, wherever
    /// it now is, so the next key acts on the report the triager was looking at.
    pub keep: Option<(ReportId, Option<ReportId>)>,
    /// The report the cursor just landed on after a change took the one before it away:
    /// highlighted until the next key, so the jump is seen.
    pub landed: Option<ReportId>,
    /// The reply being written, if any.
    pub reply: Option<ReplyFlow>,
    /// An advisory form not saved (errors, a refusal): `A` on its report opens it again.
    pub advisory_kept: Option<super::action::AdvisoryForm>,
    /// The template names `r` offers (shipped and the config directory's).
    pub templates: Vec<String>,
    /// Replies in the outbox not yet sent, once counted.
    pub outbox_pending: Option<usize>,
    /// The terminal size, for paging the queue to the viewport.
    pub width: u16,
    pub height: u16,
    pub quit: bool,
}

/// How many status lines the message log keeps.
pub const MESSAGE_LOG: usize = 100;

/// Lines the report view spends on its title, the status line and the footer.
pub const REPORT_CHROME: u16 = 3;

/// Lines the queue screen spends on tabs, header, status and hints.
pub const QUEUE_CHROME: u16 = 5;

impl State {
    /// The reports a triage key acts on, each with the version the view loaded: the open report
    /// in the report view; in the queue, the selection for bulk keys (`s`, `i`) or the cursor's.
    pub fn targets(&self, bulk: bool) -> Vec<(ReportId, i64)> {
        match self.screen {
            // Until the report has loaded, the queue line it was opened from stands in for it.
            Screen::Report => match self.report.as_ref() {
                Some(d) if Some(d.id()) == self.report_id => vec![(d.id(), d.report.version)],
                _ => self
                    .queue
                    .current()
                    .map(|r| vec![(r.summary.id, r.version)])
                    .unwrap_or_default(),
            },
            Screen::Queue if bulk && !self.selection.is_empty() => self
                .selection
                .iter()
                .map(|(id, p)| (*id, p.version))
                .collect(),
            Screen::Queue => self
                .queue
                .current()
                .map(|r| vec![(r.summary.id, r.version)])
                .unwrap_or_default(),
            Screen::Stats | Screen::Held => Vec::new(),
        }
    }

    pub fn new(
        me: Identity,
        members: Vec<Identity>,
        clocks: ClockConfig,
        now: DateTime<Utc>,
    ) -> State {
        State {
            now,
            me,
            members,
            clocks,
            screen: Screen::Queue,
            tab: Tab::NeedsTriage,
            order: QueueOrder::Age,
            search: None,
            queue: QueueView::default(),
            selection: BTreeMap::new(),
            report: None,
            report_id: None,
            report_scroll: 0,
            show_reasons: false,
            find: None,
            find_at: None,
            stats: None,
            stats_monthly: false,
            stats_scroll: 0,
            held: None,
            held_gaps: Vec::new(),
            held_cursor: 0,
            held_loading: false,
            held_reject: None,
            held_sweep: None,
            overlay: Overlay::None,
            status: None,
            sync: None,
            syncing: None,
            undo: Vec::new(),
            messages: Default::default(),
            tab_counts: Vec::new(),
            count: None,
            follow: None,
            keep: None,
            landed: None,
            reply: None,
            advisory_kept: None,
            templates: Vec::new(),
            outbox_pending: None,
            width: 80,
            height: 24,
            quit: false,
        }
    }

    /// The filter of the queue on screen: the tab's, with the sort and the search.
    pub fn filter(&self) -> QueueFilter {
        let mut f = self.tab.filter(&self.me.email);
        f.order = self.order;
        f.search = self.search.clone();
        f
    }

    /// How many queue lines fit on screen.
    pub fn viewport(&self) -> usize {
        self.height.saturating_sub(QUEUE_CHROME).max(1) as usize
    }

    /// How many lines a page is on the screen showing: queue rows, or report lines.
    pub fn page_lines(&self) -> usize {
        match self.screen {
            Screen::Queue => self.viewport(),
            _ => self.height.saturating_sub(REPORT_CHROME).max(1) as usize,
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.set_status(text.into(), false);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.set_status(text.into(), true);
    }

    fn set_status(&mut self, text: String, error: bool) {
        if !text.is_empty() {
            let mark = if error { "error: " } else { "" };
            self.log(&format!("{mark}{text}"));
        }
        self.status = Some(Status { text, error });
    }

    /// A preview (a reply's, or a reject reason's) has the keys: y sends, e edits, n cancels.
    pub fn previewing(&self) -> bool {
        self.reply.as_ref().is_some_and(|r| r.previewing)
            || self.held_reject.as_ref().is_some_and(|r| r.previewing)
    }

    /// Adds a line to the message log (`L`) without showing it in the status line.
    pub fn log(&mut self, text: &str) {
        let stamp = self.now.format("%H:%M:%S");
        self.messages.push_back(format!("{stamp} {text}"));
        while self.messages.len() > MESSAGE_LOG {
            self.messages.pop_front();
        }
    }
}
