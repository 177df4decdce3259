//! What sits over the screens and takes the keys: the prompts (readline editing through
//! `tui-input`), the pickers (narrowed as you type, fuzzily), the yes/no questions, and the
//! selection's entries with what the classifier suggested for each.

use crate::core::model::{InvalidReason, ReportId, ReportState};
use crate::core::store::queue::QueueRow;

/// A one-line text prompt at the bottom of the screen, edited the readline way (`tui-input`:
/// Ctrl-U, Ctrl-W, Ctrl-A, Ctrl-E, Ctrl-K, arrows).
#[derive(Debug, Clone)]
pub struct Input {
    pub purpose: InputPurpose,
    pub field: tui_input::Input,
}

impl Input {
    pub fn new(purpose: InputPurpose, text: String) -> Input {
        Input {
            purpose,
            field: tui_input::Input::new(text),
        }
    }

    pub fn text(&self) -> &str {
        self.field.value()
    }
}

impl PartialEq for Input {
    fn eq(&self, other: &Input) -> bool {
        self.purpose == other.purpose
            && self.field.value() == other.field.value()
            && self.field.cursor() == other.field.cursor()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputPurpose {
    Search,
    /// Search the open report's text (report view); n/N step through the matches.
    FindInReport,
    Note,
    /// A reason of one's own for `invalid`, beside the list.
    InvalidReasonText,
    /// `:` commands (`:messages`, `:q`).
    Command,
}

/// A list to choose one entry from. Typing narrows it (fuzzy, by any part of the line).
#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub purpose: PickerPurpose,
    /// What each line shows, and what choosing it means.
    pub items: Vec<(String, PickerChoice)>,
    /// The cursor's place among the matching items.
    pub cursor: usize,
    /// What was typed to narrow the list.
    pub filter: String,
}

impl Picker {
    pub fn new(purpose: PickerPurpose, items: Vec<(String, PickerChoice)>) -> Picker {
        Picker {
            purpose,
            items,
            cursor: 0,
            filter: String::new(),
        }
    }

    /// The items the filter lets through, best first. In the report picker, a number typed
    /// in full puts that report first (a line of its own when it is not listed), so the
    /// line under the cursor is always what Enter picks.
    pub fn matching(&self) -> Vec<std::borrow::Cow<'_, (String, PickerChoice)>> {
        use std::borrow::Cow;
        let mut scored: Vec<(i64, usize, &(String, PickerChoice))> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| fuzzy_score(&self.filter, &item.0).map(|s| (s, i, item)))
            .collect();
        scored.sort_by_key(|(score, i, _)| (-score, *i));
        let mut out: Vec<Cow<'_, (String, PickerChoice)>> = scored
            .into_iter()
            .map(|(_, _, item)| Cow::Borrowed(item))
            .collect();
        if let Some(id) = self.typed_report() {
            // Its line (whose choice may be its original: "duplicate: picks #N").
            let is_it = |item: &(String, PickerChoice)| line_report(&item.0) == Some(id);
            out.retain(|item| !is_it(item));
            let item = match self.items.iter().find(|item| is_it(item)) {
                Some(item) => Cow::Borrowed(item),
                None => Cow::Owned((
                    format!("#{id} (not listed here: by its number)"),
                    PickerChoice::Report(id),
                )),
            };
            out.insert(0, item);
        }
        out
    }

    /// The report whose number was typed in full into the report picker.
    fn typed_report(&self) -> Option<ReportId> {
        (self.purpose == PickerPurpose::DuplicateOf)
            .then(|| self.filter.trim().trim_start_matches('#').parse().ok())
            .flatten()
    }
}

/// The report a line of the report picker is about: its first `#N` word (after the
/// similarity mark, `≈91% #12 subject (state)`).
fn line_report(label: &str) -> Option<ReportId> {
    label
        .split_whitespace()
        .find_map(|w| w.strip_prefix('#'))
        .and_then(|n| n.parse().ok())
}

/// How well `pattern` matches `text` as a subsequence, ignoring case: `None` when it does
/// not; higher for matches that are contiguous or start a word. An empty pattern matches all.
pub fn fuzzy_score(pattern: &str, text: &str) -> Option<i64> {
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let mut score = 0i64;
    let mut at = 0usize;
    let mut last: Option<usize> = None;
    for p in pattern
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
    {
        let found = (at..text.len()).find(|&i| text[i] == p)?;
        score += 1;
        if last.is_some_and(|l| l + 1 == found) {
            score += 4;
        }
        if found == 0 || !text[found - 1].is_alphanumeric() {
            score += 3;
        }
        last = Some(found);
        at = found + 1;
    }
    Some(score)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerPurpose {
    Assign,
    State,
    InvalidReason,
    /// The template a reply starts from.
    Template,
    /// The original report for `d`, by subject or id.
    DuplicateOf,
    /// How the reporter was answered elsewhere, for `A`.
    Answered,
    /// The reason a held post is rejected with (`r` on the held screen).
    RejectReason,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PickerChoice {
    Member(String),
    State(ReportState),
    Reason(InvalidReason),
    /// A template name, or `None` for a blank reply.
    Template(Option<String>),
    /// A report, for `d`.
    Report(ReportId),
    /// "Another reason…": type one.
    OtherReason,
    /// How the reporter was answered outside secdesk.
    Via(crate::core::triage::Via),
}

/// A question that must be answered `y` before something happens; anything else says no.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub question: String,
    pub on_yes: OnYes,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OnYes {
    /// Send these requests (a bulk triage change).
    Requests(Vec<super::action::Request>, Option<Follow>),
    Quit,
    /// Send the reply on the preview (over the recipient limit).
    SendReply,
    /// Open the editor on the composed reply although another member is answering the
    /// report; no leaves the reply unwritten.
    WriteReply,
}

/// What sits on top of the screen, taking the keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    /// The keys, scrolled by this many lines.
    Help(u16),
    Input(Input),
    Picker(Picker),
    Confirm(Confirm),
    /// The message log (`L`, `:messages`), scrolled by this many lines from the end.
    Messages(u16),
}

/// A selected report: the version it was selected at and what the classifier suggested, so
/// a bulk action can say what it would overrule before it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    pub version: i64,
    pub class: Option<String>,
    pub outcome: Option<String>,
    pub confirmed: bool,
    /// Who coordinates it (has taken it), if anyone.
    pub coordinator: Option<String>,
}

impl Picked {
    pub fn of(row: &QueueRow) -> Picked {
        let s = &row.summary;
        Picked {
            version: row.version,
            class: s.class.clone(),
            outcome: s.outcome.clone(),
            confirmed: s.class_confirmed,
            coordinator: s.coordinator.clone(),
        }
    }

    /// How the suggestion reads in a question: "suggested valid", "unsure", "confirmed spam".
    pub fn suggestion(&self) -> String {
        match (&self.class, self.confirmed, self.outcome.as_deref()) {
            (Some(c), true, _) => format!("confirmed {c}"),
            (_, false, Some("unsure")) => "unsure".to_string(),
            (Some(c), false, _) => format!("suggested {c}"),
            (None, _, _) => "unclassified".to_string(),
        }
    }

    /// Whether the classifier (or a person) already says `class`, surely.
    pub fn says(&self, class: &str) -> bool {
        self.class.as_deref() == Some(class)
            && (self.confirmed || self.outcome.as_deref() != Some("unsure"))
    }
}

/// Where the cursor goes once a change has landed: back onto the acted-on report if it is
/// still in the queue, else onto the one that followed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Follow {
    pub acted: ReportId,
    pub next: Option<ReportId>,
    /// The change has been applied: the next queue page is the one to land on.
    pub landed: bool,
}
