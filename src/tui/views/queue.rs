//! The queue: tabs, one line per report (only the visible rows are built), and a line
//! saying where the cursor is, how the queue is sorted and what is selected.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Tabs, Wrap};
use ratatui::Frame;

use super::{age, class_span, due, safe, safe_cell};
use crate::core::store::parse_timestamp;
use crate::core::store::queue::{QueueOrder, QueueRow};
use crate::tui::app::{State, Tab};
use crate::tui::text;

/// The queue's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Marks,
    Id,
    Age,
    Due,
    Class,
    State,
    Coordinator,
    From,
    Messages,
    Subject,
}

impl Column {
    /// Left to right.
    const ORDER: [Column; 10] = [
        Column::Marks,
        Column::Id,
        Column::Age,
        Column::Due,
        Column::Class,
        Column::State,
        Column::Coordinator,
        Column::From,
        Column::Messages,
        Column::Subject,
    ];

    /// The order columns leave a narrow screen in: coordinator and sender first. The id,
    /// class, state and subject never leave.
    pub const DROP_ORDER: [Column; 5] = [
        Column::Coordinator,
        Column::From,
        Column::Messages,
        Column::Age,
        Column::Due,
    ];

    fn width(self) -> u16 {
        match self {
            Column::Marks => 2,
            Column::Id => 6,
            Column::Age => 4,
            Column::Due => 9,
            Column::Class => 13,
            Column::State => 12,
            Column::Coordinator => 8,
            Column::From => 22,
            Column::Messages => 3,
            Column::Subject => 0,
        }
    }

    /// The column's width on a table `total` wide: the sender gets more room on a wide
    /// screen, so `Name <address>` fits more often (else the address alone shows).
    fn width_at(self, total: u16) -> u16 {
        match self {
            Column::From if total >= WIDE_FROM_AT => WIDE_FROM,
            other => other.width(),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Column::Marks => "",
            Column::Id => "    id",
            Column::Age => "age",
            Column::Due => "due",
            Column::Class => "class",
            Column::State => "state",
            Column::Coordinator => "coord",
            Column::From => "from",
            Column::Messages => "msg",
            Column::Subject => "subject",
        }
    }
}

/// The narrowest subject worth keeping a column out for.
const SUBJECT_MIN: u16 = 30;

/// The columns shown at `width`: every column while the subject keeps [`SUBJECT_MIN`]
/// cells, dropping them in [`Column::DROP_ORDER`] until it does (or none is left to drop).
/// From this table width on, the From column is [`WIDE_FROM`] wide.
const WIDE_FROM_AT: u16 = 160;
const WIDE_FROM: u16 = 40;

pub fn columns(width: u16) -> Vec<Column> {
    let mut shown: Vec<Column> = Column::ORDER.to_vec();
    let used = |cols: &[Column]| -> u16 { cols.iter().map(|c| c.width_at(width) + 1).sum::<u16>() };
    for drop in Column::DROP_ORDER {
        if width.saturating_sub(used(&shown)) >= SUBJECT_MIN {
            break;
        }
        shown.retain(|c| *c != drop);
    }
    shown
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let [tabs, table, info] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let selected = Tab::ALL.iter().position(|t| *t == state.tab);
    frame.render_widget(tab_bar(tabs.width, selected, &state.tab_counts), tabs);
    draw_rows(frame, table, state);
    draw_info(frame, info, state);
}

/// The tabs, with the size of the counted ones: full names when they fit, else short ones,
/// else short ones tightly packed.
fn tab_bar(width: u16, selected: Option<usize>, counts: &[(Tab, usize)]) -> Tabs<'static> {
    let label = |t: &Tab, name: &str| match counts.iter().find(|(c, _)| c == t) {
        Some((_, n)) => format!("{name} {n}"),
        None => name.to_string(),
    };
    let full: Vec<String> = Tab::ALL.iter().map(|t| label(t, t.title())).collect();
    let short: Vec<String> = Tab::ALL.iter().map(|t| label(t, t.short_title())).collect();
    let room = |names: &[String], pad: usize| -> usize {
        names.iter().map(|n| n.chars().count() + pad).sum()
    };
    let style = Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED);
    let tabs = if room(&full, 3) <= width as usize {
        Tabs::new(full)
    } else if room(&short, 3) <= width as usize {
        Tabs::new(short)
    } else {
        Tabs::new(short).padding("", "").divider("|")
    };
    tabs.select(selected).highlight_style(style)
}

fn draw_rows(frame: &mut Frame, area: Rect, state: &State) {
    let cols = columns(area.width);
    let header = Row::new(
        cols.iter()
            .map(|c| Cell::from(c.title()).style(Style::new().add_modifier(Modifier::BOLD))),
    );
    let q = &state.queue;
    if q.loaded && q.page.total == 0 {
        frame.render_widget(
            Paragraph::new(
                Line::from(if state.search.is_some() {
                    text::NO_MATCH_HERE
                } else {
                    text::EMPTY_QUEUE
                })
                .style(Style::new().fg(Color::DarkGray)),
            )
            // At 80 columns the advice ("Esc clears the search") was cut off.
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let visible = area.height.saturating_sub(1) as usize;
    let end = if q.loaded {
        (q.top + visible).min(q.page.total)
    } else {
        q.top
    };
    let rows: Vec<Row> = (q.top..end)
        .map(|pos| {
            let row = match q.row(pos) {
                Some(r) => report_row(r, state, &cols, Column::From.width_at(area.width)),
                None => Row::new([Cell::from(""), Cell::from(text::LOADING)]),
            };
            let landed = q.row(pos).map(|r| r.summary.id) == state.landed;
            if pos == q.cursor && landed {
                // The row the cursor jumped to after a change: stands out until the next key.
                row.style(
                    Style::new()
                        .fg(Color::Yellow)
                        .add_modifier(Modifier::REVERSED | Modifier::BOLD),
                )
            } else if pos == q.cursor {
                row.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let widths: Vec<Constraint> = cols
        .iter()
        .map(|c| match c {
            Column::Subject => Constraint::Min(10),
            other => Constraint::Length(other.width_at(area.width)),
        })
        .collect();
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}

fn report_row<'a>(r: &'a QueueRow, state: &State, cols: &[Column], from_width: u16) -> Row<'a> {
    let s = &r.summary;
    let selected = state.selection.contains_key(&s.id);
    let (due_text, overdue) = match r.deadline {
        Some(d) => due(state.now, d),
        None => (String::new(), false),
    };
    let marks = format!(
        "{}{}",
        if selected { "●" } else { " " },
        if overdue {
            "!"
        } else if s.flagged {
            "↩"
        } else {
            " "
        }
    );
    let late = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let coordinator = s
        .coordinator
        .as_deref()
        .map(|c| c.split('@').next().unwrap_or(c).to_string())
        .unwrap_or_default();
    let age_text = parse_timestamp(&s.received_at)
        .map(|t| age(state.now, t))
        .unwrap_or_default();
    let cell = |c: &Column| -> Cell {
        match c {
            Column::Marks => Cell::from(marks.clone()).style(if overdue {
                late
            } else {
                Style::new().fg(Color::Cyan)
            }),
            Column::Id => Cell::from(format!("{:>6}", s.id)),
            Column::Age => Cell::from(age_text.clone()),
            Column::Due => {
                Cell::from(due_text.clone()).style(if overdue { late } else { Style::new() })
            }
            // The classifier's suggestion matters only until a person has triaged the report.
            Column::Class if s.class_confirmed || s.state != "new" => Cell::from(class_span(
                s.class.as_deref().filter(|_| s.class_confirmed),
                None,
                None,
                true,
            )),
            Column::Class => Cell::from({
                class_span(
                    s.class.as_deref(),
                    s.outcome.as_deref(),
                    s.confidence,
                    false,
                )
            }),
            Column::State => Cell::from(s.state.clone()),
            Column::Coordinator => Cell::from(coordinator.clone()),
            Column::From => Cell::from(from_cell(&s.from, usize::from(from_width))),
            Column::Messages => Cell::from(format!("{:>3}", s.messages)),
            Column::Subject => match state.queue.marks.get(&s.id) {
                // The finish clock and the embargo first, so a narrow screen still shows them.
                Some(mark) => Cell::from(Line::from(vec![
                    Span::styled(format!("[{mark}] "), late),
                    Span::raw(safe_cell(&s.subject)),
                ])),
                None => Cell::from(safe_cell(&s.subject)),
            },
        }
    };
    Row::new(cols.iter().map(cell).collect::<Vec<_>>())
}

/// The sender as the From column shows it in `width` characters: `Name <addr>` when it
/// fits, else the address alone. Cutting from the end hid the address behind a long or
/// spoofed display name (`"security@python.org" <attacker@evil.test>` read as the team's).
fn from_cell(from: &str, width: usize) -> String {
    let shown = safe_cell(from);
    if shown.chars().count() <= width {
        return shown;
    }
    match shown.rsplit_once(" <") {
        Some((_, addr)) if addr.ends_with('>') => addr.trim_end_matches('>').to_string(),
        _ => shown,
    }
}

fn draw_info(frame: &mut Frame, area: Rect, state: &State) {
    let q = &state.queue;
    let mut parts = vec![
        state.tab.title().to_string(),
        if q.loaded {
            text::queue_position(q.cursor, q.page.total)
        } else {
            text::LOADING.to_string()
        },
        text::queue_order(
            match state.order {
                QueueOrder::Age => text::SORT_AGE,
                QueueOrder::Deadline => text::SORT_DEADLINE,
            },
            state.filter().spam_last,
        ),
    ];
    if let Some(search) = &state.search {
        parts.push(text::search_active(&safe(search)));
    }
    if !state.selection.is_empty() {
        parts.push(text::selected(state.selection.len()));
    }
    if let Some(n) = state.count {
        parts.push(format!("{n}…"));
    }
    frame.render_widget(
        Paragraph::new(Span::styled(
            parts.join(" · "),
            Style::new().fg(Color::DarkGray),
        )),
        area,
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sender_too_long_for_its_column_shows_its_address() {
        assert_eq!(super::from_cell("Rita <r@x.test>", 22), "Rita <r@x.test>");
        assert_eq!(
            super::from_cell("\"security@python.org\" <attacker@evil.test>", 22),
            "attacker@evil.test"
        );
        assert_eq!(
            super::from_cell("Python Security Response Team via list <a@evil.test>", 22),
            "a@evil.test"
        );
        assert_eq!(
            super::from_cell("only-an-address-that-is-long@x.test", 22),
            "only-an-address-that-is-long@x.test"
        );
    }
}
