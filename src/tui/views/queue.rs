//! The queue: tabs, one line per report (only the visible rows are built), and a line
//! saying where the cursor is, how the queue is sorted and what is selected.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Tabs};
use ratatui::Frame;

use super::{age, class_span, due, safe};
use crate::core::store::parse_timestamp;
use crate::core::store::queue::{QueueOrder, QueueRow};
use crate::tui::app::{State, Tab};
use crate::tui::text;

const WIDTHS: [Constraint; 10] = [
    Constraint::Length(2),  // selection and overdue marks
    Constraint::Length(6),  // id
    Constraint::Length(4),  // age
    Constraint::Length(9),  // due
    Constraint::Length(13), // class
    Constraint::Length(12), // state
    Constraint::Length(8),  // coordinator
    Constraint::Length(22), // sender
    Constraint::Length(3),  // messages
    Constraint::Min(10),    // subject
];

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let [tabs, table, info] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let selected = Tab::ALL.iter().position(|t| *t == state.tab);
    frame.render_widget(
        Tabs::new(Tab::ALL.iter().map(|t| t.title()))
            .select(selected)
            .highlight_style(Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)),
        tabs,
    );
    draw_rows(frame, table, state);
    draw_info(frame, info, state);
}

fn draw_rows(frame: &mut Frame, area: Rect, state: &State) {
    let header = Row::new(
        [
            "", "id", "age", "due", "class", "state", "coord", "from", "msg", "subject",
        ]
        .map(|h| Cell::from(h).style(Style::new().add_modifier(Modifier::BOLD))),
    );
    let q = &state.queue;
    if q.loaded && q.page.total == 0 {
        frame.render_widget(
            Paragraph::new(Line::from(text::EMPTY_QUEUE).style(Style::new().fg(Color::DarkGray))),
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
                Some(r) => report_row(r, state),
                None => Row::new([Cell::from(""), Cell::from(text::LOADING)]),
            };
            if pos == q.cursor {
                row.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    frame.render_widget(
        Table::new(rows, WIDTHS).header(header).column_spacing(1),
        area,
    );
}

fn report_row<'a>(r: &'a QueueRow, state: &State) -> Row<'a> {
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
    Row::new(vec![
        Cell::from(marks).style(if overdue {
            late
        } else {
            Style::new().fg(Color::Cyan)
        }),
        Cell::from(format!("{:>6}", s.id)),
        Cell::from(age_text),
        Cell::from(due_text).style(if overdue { late } else { Style::new() }),
        Cell::from(class_span(
            s.class.as_deref(),
            s.outcome.as_deref(),
            s.confidence,
            s.class_confirmed,
        )),
        Cell::from(s.state.clone()),
        Cell::from(coordinator),
        Cell::from(safe(&s.from)),
        Cell::from(format!("{:>3}", s.messages)),
        Cell::from(safe(&s.subject)),
    ])
}

fn draw_info(frame: &mut Frame, area: Rect, state: &State) {
    let q = &state.queue;
    let mut parts = vec![
        if q.loaded {
            text::queue_position(q.cursor, q.page.total)
        } else {
            text::LOADING.to_string()
        },
        match state.order {
            QueueOrder::Age => text::SORT_AGE.to_string(),
            QueueOrder::Deadline => text::SORT_DEADLINE.to_string(),
        },
    ];
    if let Some(search) = &state.search {
        parts.push(text::search_active(&safe(search)));
    }
    if !state.selection.is_empty() {
        parts.push(text::selected(state.selection.len()));
    }
    frame.render_widget(
        Paragraph::new(Span::styled(
            parts.join(" · "),
            Style::new().fg(Color::DarkGray),
        )),
        area,
    );
}
