//! The held screen: the mailing list's hold queue, one post a line, with the classifier's
//! verdict first (spam in red), then the list, the request id, the sender, the subject and
//! Mailman's hold reason. Every field is the sender's text: all of it passes through `safe`.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::{class_style, safe};
use crate::tui::app::State;
use crate::tui::text;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(text::HELD_TITLE);
    let lines: Vec<Line> = match &state.held {
        None => vec![Line::raw(text::LOADING)],
        Some(Err(e)) => vec![Line::raw(safe(e))],
        Some(Ok(posts)) if posts.is_empty() => vec![Line::raw(text::HELD_NONE)],
        Some(Ok(posts)) => {
            let visible = area.height.saturating_sub(1).max(1) as usize;
            let top = state.held_cursor.saturating_sub(visible - 1);
            posts
                .iter()
                .enumerate()
                .skip(top)
                .take(visible)
                .map(|(i, c)| {
                    let p = &c.post;
                    let class = c.verdict.class.as_str();
                    let mut line = Line::from(vec![
                        Span::styled(format!("{class:<8}"), class_style(Some(class))),
                        Span::raw(format!(
                            "{:>5} {} · {} · {} · {}",
                            p.request_id,
                            safe(&p.sender),
                            safe(&p.subject),
                            safe(&p.reason),
                            safe(&p.list),
                        )),
                    ]);
                    if i == state.held_cursor {
                        line = line.style(Style::new().add_modifier(Modifier::REVERSED));
                    }
                    line
                })
                .collect()
        }
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
