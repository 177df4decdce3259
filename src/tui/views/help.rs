//! The `?` overlay: every binding of the keymap, generated from it. When the list is taller
//! than the screen it is laid out in two columns.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::centered;
use crate::tui::keymap::help_lines;
use crate::tui::text;

/// The width of one column of the help.
const COLUMN: u16 = 60;

pub fn draw(frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = help_lines()
        .into_iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(
                    format!(" {keys:<14}"),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(what),
            ])
        })
        .collect();
    let columns = if lines.len() as u16 + 2 > area.height {
        2
    } else {
        1
    };
    let rows = lines.len().div_ceil(columns) as u16;
    let popup = centered(area, COLUMN * columns as u16 + 4, rows + 2);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(text::HELP_TITLE);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let areas =
        Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(inner);
    for (chunk, column) in lines.chunks(rows.max(1) as usize).zip(areas.iter()) {
        frame.render_widget(Paragraph::new(chunk.to_vec()), *column);
    }
}
