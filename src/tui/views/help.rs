//! The `?` overlay, every binding of the keymap generated from it, and the message log
//! (`L`, `:messages`). Both scroll with the motion keys when taller than the screen; the
//! help is laid out in two columns when the screen is wide enough to need no scrolling.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{centered, safe};
use crate::tui::app::State;
use crate::tui::keymap::help_lines;
use crate::tui::text;

/// The width of one column of the help.
const COLUMN: u16 = 58;

fn lines() -> Vec<Line<'static>> {
    help_lines()
        .into_iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(
                    format!(" {keys:<18}"),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(what),
            ])
        })
        .collect()
}

/// How far the help scrolls on a screen `width` x `height` (the whole desk).
pub fn help_max_scroll(width: u16, height: u16) -> u16 {
    let body = Rect::new(0, 0, width, height.saturating_sub(2));
    let (rows, shown) = help_rows(body);
    rows.saturating_sub(shown)
}

/// The help's rows (one column, wrapped) and how many show in `area`.
fn help_rows(area: Rect) -> (u16, u16) {
    let inner = area.width.min(COLUMN + 2).saturating_sub(2).max(1);
    let rows = Paragraph::new(lines())
        .wrap(Wrap { trim: false })
        .line_count(inner);
    (
        rows.min(u16::MAX as usize) as u16,
        area.height.saturating_sub(2),
    )
}

pub fn draw(frame: &mut Frame, area: Rect, scroll: u16) {
    let all = lines();
    let title = text::HELP_TITLE;
    // Two columns when one is too tall and two fit side by side: no scrolling needed.
    if all.len() as u16 + 2 > area.height && area.width >= 2 * COLUMN + 4 {
        let rows = all.len().div_ceil(2) as u16;
        let popup = centered(area, 2 * COLUMN + 4, rows + 2);
        frame.render_widget(Clear, popup);
        let block = Block::default().borders(Borders::ALL).title(title);
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let areas = Layout::horizontal([Constraint::Ratio(1, 2); 2]).split(inner);
        for (chunk, column) in all.chunks(rows.max(1) as usize).zip(areas.iter()) {
            frame.render_widget(
                Paragraph::new(chunk.to_vec()).wrap(Wrap { trim: false }),
                *column,
            );
        }
        return;
    }
    let (rows, _) = help_rows(area);
    let popup = centered(area, COLUMN + 2, rows + 2);
    let (_, shown) = help_rows(popup);
    let max = rows.saturating_sub(shown);
    let scroll = scroll.min(max);
    let title = if max > 0 {
        format!(
            "{title}— j/k scroll ({}/{}) ",
            scroll + shown.min(rows),
            rows
        )
    } else {
        title.to_string()
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(all)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(Block::default().borders(Borders::ALL).title(title)),
        popup,
    );
}

/// The last status lines, newest at the bottom; `scroll` counts lines from the top, and
/// the log opens at its end.
pub fn draw_messages(frame: &mut Frame, area: Rect, state: &State, scroll: u16) {
    let lines: Vec<Line> = if state.messages.is_empty() {
        vec![Line::raw(text::NOTHING_LOGGED)]
    } else {
        state.messages.iter().map(|m| Line::raw(safe(m))).collect()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(text::MESSAGES_TITLE);
    let inner = block.inner(area);
    let rows = Paragraph::new(lines.clone())
        .wrap(Wrap { trim: false })
        .line_count(inner.width.max(1));
    let max = rows
        .saturating_sub(inner.height as usize)
        .min(u16::MAX as usize) as u16;
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll.min(max), 0))
            .block(block),
        area,
    );
}

/// How far the message log scrolls on a screen `width` x `height`.
pub fn messages_max_scroll(state: &State) -> u16 {
    let inner_w = state.width.saturating_sub(2).max(1);
    let inner_h = state.height.saturating_sub(4) as usize;
    let lines: Vec<Line> = state.messages.iter().map(|m| Line::raw(safe(m))).collect();
    let rows = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .line_count(inner_w);
    rows.saturating_sub(inner_h).min(u16::MAX as usize) as u16
}
