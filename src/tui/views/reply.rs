//! The reply preview: the message as it will be sent (headers, then the body), over the
//! screen it was started from. Everything in it passes through the terminal-safe filters:
//! the quote and the addresses come from a stranger's mail.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::safe;
use crate::core::sanitize::terminal_text;
use crate::tui::action::ReplyCheck;
use crate::tui::app::{ReplyFlow, State};
use crate::tui::text;

/// The store worker's findings: over the recipient limit, encrypted or not, and a reply
/// going readable to a report that came encrypted (red, like the limit).
fn check_lines(
    check: Option<&ReplyCheck>,
    field: &dyn Fn(&str, String) -> Line<'static>,
) -> Vec<Line<'static>> {
    let Some(check) = check else {
        return vec![Line::from(Span::styled(
            text::PREVIEW_CHECKING,
            Style::new().fg(Color::DarkGray),
        ))];
    };
    let red = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    if let Some(over) = &check.over_limit {
        lines.push(Line::from(Span::styled(safe(over), red)));
    }
    if let Some(sealing) = &check.sealing {
        lines.push(field(text::PREVIEW_SEALING, safe(sealing)));
    }
    if let Some(why) = &check.readable {
        lines.push(Line::from(Span::styled(
            text::readable_reply(&safe(why)),
            red,
        )));
    }
    lines
}

pub fn draw(frame: &mut Frame, area: Rect, flow: &ReplyFlow, state: &State) {
    let lines = lines(flow, state, area.width);
    preview_box(
        frame,
        area,
        lines,
        text::preview_title(flow.draft.report_id),
        flow.scroll,
    );
}

/// The rows `lines` take, wrapped in `width` cells.
pub(super) fn rows(lines: &[Line], width: u16) -> usize {
    Paragraph::new(lines.to_vec())
        .wrap(Wrap { trim: false })
        .line_count(width.max(1))
}

/// How far the reply preview scrolls on the desk's screen: the rows of the message past
/// the box (the screen less the status line, the footer and the box's borders).
pub fn max_scroll(state: &State) -> u16 {
    let Some(flow) = state.reply.as_ref() else {
        return 0;
    };
    preview_max_scroll(&lines(flow, state, state.width), state)
}

/// The preview's lines, headers then the body, for a box `width` cells wide.
fn lines(flow: &ReplyFlow, state: &State, width: u16) -> Vec<Line<'static>> {
    let d = &flow.draft;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<14}"), bold),
            Span::raw(value),
        ])
    };
    let mut lines = Vec::new();
    if let Some(problem) = &flow.problem {
        lines.push(Line::from(Span::styled(
            text::reply_problem(&safe(problem)),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )));
    }
    if let Some(other) = &flow.also_replying {
        lines.push(Line::from(Span::styled(
            safe(other),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )));
    }
    lines.push(field(text::PREVIEW_FROM, safe(&d.from)));
    lines.push(field(text::PREVIEW_TO, safe(&d.to.join(", "))));
    if !d.cc.is_empty() {
        lines.push(field(text::PREVIEW_CC, safe(&d.cc.join(", "))));
    }
    // The final list, one address per recipient, as the SMTP server will get it.
    let all: Vec<&str> = d.to.iter().chain(&d.cc).map(|a| bare(a)).collect();
    lines.push(field(
        text::PREVIEW_RECIPIENTS,
        text::recipient_count(all.len(), &safe(&all.join(", "))),
    ));
    lines.extend(check_lines(flow.check.as_ref(), &field));
    if !d.other_senders.is_empty() {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<14}", text::PREVIEW_OTHERS), bold),
            Span::styled(
                text::other_senders(&safe(&d.other_senders.join(", "))),
                Style::new().fg(Color::Yellow),
            ),
        ]));
    }
    lines.push(field(text::PREVIEW_SUBJECT, safe(&d.subject)));
    if let Some(parent) = &d.in_reply_to {
        lines.push(field(
            text::PREVIEW_IN_REPLY_TO,
            format!("<{}>", safe(parent)),
        ));
    }
    if let Some(then) = crate::tui::reply::after_sending(state, d) {
        lines.push(field(text::PREVIEW_THEN, then));
    }
    lines.push(Line::from(Span::styled(
        "─".repeat(width.saturating_sub(2) as usize),
        Style::new().fg(Color::DarkGray),
    )));
    lines.extend(
        terminal_text(&d.body)
            .replace('\t', "    ")
            .lines()
            .map(|l| Line::raw(l.to_string())),
    );
    lines
}

/// A preview over `area`: the screen under it cleared, `lines` wrapped in a box titled
/// `title`, scrolled down `scroll` rows (as far as the last row reaching the box's bottom).
/// The reply's and the reject reason's previews look alike: what does not fit is said on
/// the bottom border, with the keys that reach it, since each is read whole before `y`
/// sends it.
pub fn preview_box(frame: &mut Frame, area: Rect, lines: Vec<Line>, title: String, scroll: u16) {
    let inner = Rect::new(
        0,
        0,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    let rows = rows(&lines, inner.width);
    let shown = inner.height as usize;
    let top = (scroll as usize).min(rows.saturating_sub(shown));
    let position = (rows > shown).then(|| {
        let last = (top + shown).min(rows);
        Line::from(Span::styled(
            text::preview_position(top + 1, last, rows),
            Style::new().add_modifier(Modifier::BOLD),
        ))
        .right_aligned()
    });
    frame.render_widget(Clear, area);
    let mut block = Block::default().borders(Borders::ALL).title(title);
    if let Some(position) = position {
        block = block.title_bottom(position);
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((top.min(u16::MAX as usize) as u16, 0)),
        area,
    );
}

/// How far a preview of `lines` scrolls on the desk's screen: the rows past the box (the
/// screen less the status line, the footer and the box's borders).
pub(super) fn preview_max_scroll(lines: &[Line], state: &State) -> u16 {
    let inner_height = state.height.saturating_sub(4) as usize;
    rows(lines, state.width.saturating_sub(2))
        .saturating_sub(inner_height)
        .min(u16::MAX as usize) as u16
}

/// The address of `Name <addr>`, or the text itself.
fn bare(mailbox: &str) -> &str {
    match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(a), Some(b)) if a < b => &mailbox[a + 1..b],
        _ => mailbox.trim(),
    }
}
