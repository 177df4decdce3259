//! Drawing: every view is a function of `&State` and a frame, nothing else. All text that
//! came in a mail passes through [`safe`] on its way to a widget.

mod help;
mod picker;
mod queue;
mod reply;
mod report;
mod stats;

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::app::{InputPurpose, Overlay, Screen, State};
use super::keymap::{self, Where};
use super::text;
use crate::core::sanitize::terminal_line;

/// Draws the whole desk.
pub fn draw(frame: &mut Frame, state: &State) {
    let [body, status, footer] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    match state.screen {
        Screen::Queue => queue::draw(frame, body, state),
        Screen::Report => report::draw(frame, body, state),
        Screen::Stats => stats::draw(frame, body, state),
    }
    if let Some(flow) = state.reply.as_ref().filter(|r| r.previewing) {
        reply::draw(frame, body, flow);
    }
    draw_status(frame, status, state);
    draw_footer(frame, footer, state);
    match &state.overlay {
        Overlay::Help => help::draw(frame, body),
        Overlay::Picker(p) => picker::draw(frame, body, p),
        Overlay::Input(_) | Overlay::None => {}
    }
}

/// One line of mail-derived text, made terminal-safe.
pub fn safe(s: &str) -> String {
    terminal_line(s)
}

fn draw_status(frame: &mut Frame, area: Rect, state: &State) {
    if let Overlay::Input(input) = &state.overlay {
        let prompt = match input.purpose {
            InputPurpose::Search => text::SEARCH_PROMPT,
            InputPurpose::Note => text::NOTE_PROMPT,
            InputPurpose::DuplicateOf => text::DUPLICATE_PROMPT,
        };
        let line = Line::from(vec![
            Span::styled(prompt, Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(safe(&input.text)),
            Span::styled("█", Style::new().add_modifier(Modifier::SLOW_BLINK)),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let mut right = Vec::new();
    if let Some(n) = state.outbox_pending.filter(|n| *n > 0) {
        right.push(Span::styled(
            format!("{}  ", text::outbox_pending(n)),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    right.push(match &state.sync {
        Some(Ok(s)) => Span::styled(safe(s), Style::new().fg(Color::DarkGray)),
        Some(Err(e)) => Span::styled(
            text::sync_failed(&safe(e)),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        None => Span::raw(""),
    });
    let sync = Line::from(right);
    let sync_width = (sync.width() as u16).min(area.width / 2);
    let [left, right] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(sync_width)]).areas(area);
    if let Some(status) = &state.status {
        let style = if status.error {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Cyan)
        };
        frame.render_widget(
            Paragraph::new(Span::styled(safe(&status.text), style)),
            left,
        );
    }
    frame.render_widget(Paragraph::new(sync).right_aligned(), right);
}

fn draw_footer(frame: &mut Frame, area: Rect, state: &State) {
    let at = match state.screen {
        _ if state.reply.as_ref().is_some_and(|r| r.previewing) => Where::ReplyPreview,
        Screen::Queue => Where::Queue,
        Screen::Report => Where::Report,
        Screen::Stats => Where::Stats,
    };
    let mut spans = Vec::new();
    for (keys, what) in keymap::hints(at) {
        spans.push(Span::styled(
            keys,
            Style::new().fg(Color::Black).bg(Color::Gray),
        ));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// "12m", "5h", "3d", "7w": how long ago `then` was.
pub fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    short_duration((now - then).num_minutes())
}

fn short_duration(minutes: i64) -> String {
    let m = minutes.max(0);
    match m {
        0..=59 => format!("{m}m"),
        60..=2879 => format!("{}h", m / 60),
        2880..=20159 => format!("{}d", m / 1440),
        _ => format!("{}w", m / 10080),
    }
}

/// "in 2d" or "3d late": where a deadline stands.
pub fn due(now: DateTime<Utc>, deadline: DateTime<Utc>) -> (String, bool) {
    let minutes = (deadline - now).num_minutes();
    if minutes < 0 {
        (format!("{} late", short_duration(-minutes)), true)
    } else {
        (format!("in {}", short_duration(minutes)), false)
    }
}

/// The class column: suggested or confirmed class with the classifier's confidence.
/// An unsure verdict stands out; a confirmed class carries a check mark.
pub fn class_span(
    class: Option<&str>,
    outcome: Option<&str>,
    confidence: Option<f64>,
    confirmed: bool,
) -> Span<'static> {
    let pct = confidence
        .map(|c| format!(" {:>3.0}%", (c * 100.0).clamp(0.0, 100.0)))
        .unwrap_or_default();
    if confirmed {
        let c = class.unwrap_or("-");
        return Span::styled(format!("{c} ✓"), class_style(Some(c)));
    }
    if outcome == Some("unsure") {
        return Span::styled(
            format!("unsure{pct}"),
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        );
    }
    match class {
        Some(c) => Span::styled(format!("{c}?{pct}"), class_style(Some(c))),
        None => Span::styled("-", Style::new().fg(Color::DarkGray)),
    }
}

pub fn class_style(class: Option<&str>) -> Style {
    match class {
        Some("spam") => Style::new().fg(Color::Magenta),
        Some("invalid") => Style::new().fg(Color::Yellow),
        Some("valid") => Style::new().fg(Color::Green),
        _ => Style::new().fg(Color::DarkGray),
    }
}

/// A rectangle of `width` x `height` cells centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(short_duration(5), "5m");
        assert_eq!(short_duration(5 * 60), "5h");
        assert_eq!(short_duration(3 * 1440), "3d");
        assert_eq!(short_duration(30 * 1440), "4w");
    }
}
