//! Drawing: every view is a function of `&State` and a frame, nothing else. All text that
//! came in a mail passes through [`safe`] on its way to a widget.

pub mod held;
pub mod help;
mod picker;
mod queue;
pub mod reply;
pub mod report;
pub mod stats;

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
        Screen::Held => held::draw(frame, body, state),
    }
    if let Some(flow) = state.reply.as_ref().filter(|r| r.previewing) {
        reply::draw(frame, body, flow, state);
    }
    if let Some(flow) = state.held_reject.as_ref().filter(|r| r.previewing) {
        held::draw_reject(frame, body, flow);
    }
    draw_status(frame, status, state);
    draw_footer(frame, footer, state);
    match &state.overlay {
        Overlay::Help(scroll) => help::draw(frame, body, *scroll),
        Overlay::Messages(scroll) => help::draw_messages(frame, body, state, *scroll),
        Overlay::Picker(p) => picker::draw(frame, body, p, &acting_on(state, p.purpose)),
        Overlay::Confirm(c) => picker::draw_confirm(frame, body, c),
        Overlay::Input(_) | Overlay::None => {}
    }
}

/// Which reports a picker's choice will change, for its title: "#4", "12 selected".
fn acting_on(state: &State, purpose: super::app::PickerPurpose) -> String {
    if let Some(flow) = state
        .held_reject
        .as_ref()
        .filter(|_| purpose == super::app::PickerPurpose::RejectReason)
    {
        return text::held_request(flow.post.post.request_id);
    }
    let bulk = purpose == super::app::PickerPurpose::InvalidReason;
    let targets = state.targets(bulk);
    match targets.as_slice() {
        [(id, _)] => format!("#{id}"),
        many => text::selected(many.len()),
    }
}

/// `line` broken into rows of at most `width` cells, at spaces where it can and inside a
/// word only when the word alone is wider; an empty line stays one empty row. The report
/// view wraps mail itself so every row keeps its quote bar.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    // The row's cells and whether it holds anything but white space, kept as it grows:
    // measuring it again for each character made a long line cost its length times the
    // width (a 1,000,000-character word), or its length squared (as many spaces).
    let (mut used, mut has_text) = (0, false);
    // Each piece is a word with the spaces after it; leading spaces are a piece of their own.
    for piece in line.split_inclusive(' ') {
        let word = piece.trim_end_matches(' ');
        if used + cells(word) > width && has_text {
            rows.push(std::mem::take(&mut row).trim_end().to_string());
            (used, has_text) = (0, false);
        }
        for c in piece.chars() {
            let w = c.width().unwrap_or(0);
            if c != ' ' && used + w > width {
                // A run of spaces longer than the row ends it as a blank row.
                rows.push(std::mem::take(&mut row).trim_end().to_string());
                (used, has_text) = (0, false);
            }
            row.push(c);
            used += w;
            has_text |= !c.is_whitespace();
        }
    }
    rows.push(row.trim_end().to_string());
    rows
}

/// The terminal cells `s` takes.
pub fn cells(s: &str) -> usize {
    use unicode_width::UnicodeWidthChar;
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `s` cut to `width` cells, ending in "…" when it was longer.
pub fn fit(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// The status line in `width` cells: cut with "…", and, where there is room, followed by
/// where the whole line is (the message log, `L`), so an error's advice is never lost.
fn fit_status(s: &str, width: usize) -> String {
    let hint = cells(text::STATUS_CUT);
    if cells(s) <= width || width < 3 * hint {
        return fit(s, width);
    }
    format!("{}{}", fit(s, width - hint), text::STATUS_CUT)
}

/// One line of mail-derived text, made terminal-safe.
pub fn safe(s: &str) -> String {
    terminal_line(s)
}

/// Mail-derived text for a table cell or a title: terminal-safe, with each run of white
/// space one space, so a subject padded with spaces cannot draw columns of its own.
pub fn safe_cell(s: &str) -> String {
    terminal_line(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn draw_status(frame: &mut Frame, area: Rect, state: &State) {
    if let Overlay::Input(input) = &state.overlay {
        draw_prompt(frame, area, input, state);
        return;
    }
    let mut right = Vec::new();
    if let Some(n) = state.outbox_pending.filter(|n| *n > 0) {
        right.push((
            text::outbox_pending(n),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    // A round under way stands in for the last one's summary; a failure stays beside it
    // until the round ends.
    if let Some(what) = &state.syncing {
        right.push((text::syncing(&safe(what)), Style::new().fg(Color::DarkGray)));
    }
    match &state.sync {
        Some(Ok(_)) if state.syncing.is_some() => {}
        Some(Ok(s)) => right.push((safe(s), Style::new().fg(Color::DarkGray))),
        Some(Err(e)) => right.push((
            text::sync_failed(&safe(e)),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
        None => {}
    }
    let width = area.width as usize;
    let right_len: usize = right
        .iter()
        .map(|(t, _)| Line::raw(t.as_str()).width() + 2)
        .sum();
    let status_len = state
        .status
        .as_ref()
        .map_or(0, |s| Line::raw(safe(&s.text)).width());
    // The status line comes first; the sync indicator takes what is left, at most a third
    // of the line while a status shows, and each is cut with "…" rather than overlapping.
    let right_budget = if status_len == 0 {
        right_len.min(width)
    } else {
        right_len.min((width / 3).max(width.saturating_sub(status_len + 2)))
    };
    let left_budget = width.saturating_sub(right_budget + usize::from(right_budget > 0));
    let [left, gap_and_right] =
        Layout::horizontal([Constraint::Length(left_budget as u16), Constraint::Min(0)])
            .areas(area);
    if let Some(status) = &state.status {
        let style = if status.error {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Cyan)
        };
        frame.render_widget(
            Paragraph::new(Span::styled(
                fit_status(&safe(&status.text), left_budget),
                style,
            )),
            left,
        );
    }
    let mut spans = Vec::new();
    let mut room = right_budget;
    for (i, (t, style)) in right.into_iter().enumerate() {
        let sep = if i == 0 { 0 } else { 2 };
        if room <= sep {
            break;
        }
        if sep > 0 {
            spans.push(Span::raw("  "));
        }
        let piece = fit(&t, room - sep);
        room = room.saturating_sub(sep + Line::raw(piece.as_str()).width());
        spans.push(Span::styled(piece, style));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).right_aligned(),
        gap_and_right,
    );
}

/// A prompt being typed, with its cursor; a long text scrolls to keep the cursor in view.
fn draw_prompt(frame: &mut Frame, area: Rect, input: &super::app::Input, state: &State) {
    let prompt = match input.purpose {
        InputPurpose::Search => text::SEARCH_PROMPT.to_string(),
        InputPurpose::FindInReport => text::FIND_PROMPT.to_string(),
        InputPurpose::Note => {
            text::note_prompt(&acting_on(state, super::app::PickerPurpose::Assign))
        }
        InputPurpose::InvalidReasonText => {
            text::reason_prompt(&acting_on(state, super::app::PickerPurpose::InvalidReason))
        }
        InputPurpose::Command => text::COMMAND_PROMPT.to_string(),
    };
    let room = (area.width as usize).saturating_sub(prompt.chars().count() + 1);
    let field = &input.field;
    let scroll = field.visual_scroll(room);
    let value = safe(field.value());
    let chars: Vec<char> = value.chars().collect();
    let cursor = field.cursor().min(chars.len());
    let before: String = chars[scroll.min(cursor)..cursor].iter().collect();
    let under = chars.get(cursor).map_or(" ".to_string(), |c| c.to_string());
    let after: String = chars.iter().skip(cursor + 1).collect();
    let line = Line::from(vec![
        Span::styled(prompt, Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(before),
        Span::styled(under, Style::new().add_modifier(Modifier::REVERSED)),
        Span::raw(after),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// The footer: the most useful keys of this screen, as many as fit.
fn draw_footer(frame: &mut Frame, area: Rect, state: &State) {
    let at = match state.screen {
        _ if state.previewing() => Where::ReplyPreview,
        Screen::Queue => Where::Queue,
        Screen::Report => Where::Report,
        Screen::Stats => Where::Stats,
        Screen::Held => Where::Held,
    };
    let mut spans = Vec::new();
    let mut used = 0usize;
    // A reject reason's preview is short and does not scroll: no j/k promised over it.
    let rejecting = state.held_reject.as_ref().is_some_and(|r| r.previewing);
    for (keys, what) in keymap::hints(at) {
        if rejecting && what == keymap::SCROLL_HINT {
            continue;
        }
        // The key stands out on its own background: one space between hints is enough.
        let hint = format!(" {what} ");
        let w = keys.chars().count() + hint.chars().count();
        if used + w > area.width as usize + 1 {
            continue;
        }
        used += w;
        spans.push(Span::styled(
            keys,
            Style::new().fg(Color::Black).bg(Color::Gray),
        ));
        spans.push(Span::raw(hint));
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

/// The class column: suggested or confirmed class with the classifier's confidence in it
/// (`valid?    80%`), the figures of all rows in line. An unsure verdict stands out in reverse yellow with a double question
/// mark (`spam?? 55%`: the likelier class, 55% sure of it), so the figure never reads as
/// "55% unsure"; a confirmed class carries a check mark.
pub fn class_span(
    class: Option<&str>,
    outcome: Option<&str>,
    confidence: Option<f64>,
    confirmed: bool,
) -> Span<'static> {
    // The label padded to 9 cells and the figure right-aligned, so the figures of every
    // row line up in the 13-cell column: `valid?    80%`, `invalid?  76%`, `spam??    90%`.
    let pct = confidence
        .map(|c| format!("{:>3.0}%", (c * 100.0).clamp(0.0, 100.0)))
        .unwrap_or_default();
    let cell = |label: String| {
        if pct.is_empty() {
            label
        } else {
            format!("{label:<9}{pct:>4}")
        }
    };
    if confirmed {
        return match class {
            Some(c) => Span::styled(format!("{c} ✓"), class_style(Some(c))),
            None => Span::styled("-", Style::new().fg(Color::DarkGray)),
        };
    }
    if outcome == Some("unsure") {
        return Span::styled(
            cell(format!("{}??", class.unwrap_or("-"))),
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        );
    }
    match class {
        Some(c) => Span::styled(cell(format!("{c}?")), class_style(Some(c))),
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

    /// The class column reads as the class and the confidence in it: an unsure verdict is
    /// `invalid?? 55%`, whole in the queue's 13 cells, never `unsure 55%`.
    #[test]
    fn an_unsure_verdict_names_its_class_before_the_confidence_in_it() {
        let text = |class, outcome, confidence| {
            class_span(Some(class), Some(outcome), Some(confidence), false)
                .content
                .to_string()
        };
        assert_eq!(text("invalid", "unsure", 0.55), "invalid?? 55%");
        assert_eq!(text("spam", "unsure", 0.9), "spam??    90%");
        assert_eq!(text("valid", "ham", 0.8), "valid?    80%");
        assert_eq!(text("invalid", "ham", 1.0), "invalid? 100%");
        assert!(text("invalid", "unsure", 0.99).chars().count() <= 13);
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_splits_only_long_words() {
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("hello world again", 11), vec!["hello world", "again"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("  indented line", 40), vec!["  indented line"]);
        for row in wrap("a quick brown fox jumps over the lazy dog", 9) {
            assert!(row.chars().count() <= 9, "{row:?}");
        }
    }

    /// A mail body of one 1,000,000-character word, or as many spaces, wraps in one pass:
    /// measuring the row again for every character took the desk 25 s to open such a
    /// report, and seconds for every key after.
    #[test]
    fn a_line_of_a_million_characters_wraps_at_once() {
        let started = std::time::Instant::now();
        let word = "X".repeat(1_000_000);
        let rows = wrap(&word, 200);
        assert_eq!(rows.len(), 5_000);
        assert!(rows.iter().all(|r| r.len() == 200));
        let spaced = format!("a{}b", " ".repeat(1_000_000));
        assert_eq!(wrap(&spaced, 200), vec!["a", "", "b"]);
        let elapsed = started.elapsed();
        assert!(
            elapsed < std::time::Duration::from_secs(3),
            "wrapping took {elapsed:?}"
        );
    }

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(short_duration(5), "5m");
        assert_eq!(short_duration(5 * 60), "5h");
        assert_eq!(short_duration(3 * 1440), "3d");
        assert_eq!(short_duration(30 * 1440), "4w");
    }
}
