//! The held screen: the mailing list's hold queue, one post a line, with the classifier's
//! verdict first (spam in red), then the list, the request id, the sender, the subject and
//! Mailman's hold reason; below the post under the cursor, the sender authentication its
//! verdict weighed and whose it is (`AuthView::line`, as the report view shows it); a
//! sweep's progress on top while one runs; and the reject preview, the reason exactly as
//! Mailman will mail it. Every field is the sender's text: all of it passes through `safe`.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::{class_style, safe};
use crate::core::parse::Standing;
use crate::core::triage::view::AuthView;
use crate::tui::app::{RejectFlow, State};
use crate::tui::text;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    // The keys in the title are cut mid-word at 80 columns ("S sw"); the footer lists them.
    let title = if super::cells(text::HELD_TITLE) <= area.width as usize {
        text::HELD_TITLE
    } else {
        text::HELD_TITLE_SHORT
    };
    let block = Block::default().borders(Borders::TOP).title(title);
    let mut lines: Vec<Line> = Vec::new();
    if let Some((done, total)) = state.held_sweep {
        lines.push(Line::from(Span::styled(
            format!(
                "{} {}",
                bar(done, total, 20),
                text::sweep_progress(done, total)
            ),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )));
    }
    match &state.held {
        None => lines.push(Line::raw(text::LOADING)),
        // Wrapped: the error says what to add to the config, past any screen's width.
        Some(Err(e)) => lines.extend(
            super::wrap(&safe(e), area.width as usize)
                .into_iter()
                .map(Line::raw),
        ),
        Some(Ok(posts)) if posts.is_empty() => lines.push(Line::raw(text::HELD_NONE)),
        Some(Ok(posts)) => {
            // The post under the cursor says whose sender authentication its verdict weighed,
            // on a line of its own below it, as the report view does.
            let auth = posts
                .get(state.held_cursor)
                .and_then(|c| AuthView::of(&c.auth).line().map(|l| (c.auth.standing, l)));
            let visible = (area.height.saturating_sub(1) as usize)
                .saturating_sub(lines.len())
                .saturating_sub(usize::from(auth.is_some()))
                .max(1);
            let top = state.held_cursor.saturating_sub(visible - 1);
            for (i, c) in posts.iter().enumerate().skip(top).take(visible) {
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
                lines.push(line);
                if let Some((standing, auth)) = auth.as_ref().filter(|_| i == state.held_cursor) {
                    // A verdict nothing shows to be the receiving server's is not drawn quietly.
                    let style = if *standing == Standing::Configured {
                        Style::new().fg(Color::DarkGray)
                    } else {
                        Style::new().fg(Color::Yellow)
                    };
                    lines.push(Line::from(Span::styled(
                        format!("{:8}      {}", "", safe(auth)),
                        style,
                    )));
                }
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// `[#####-----]`: `done` of `total`, `width` cells inside the brackets.
fn bar(done: usize, total: usize, width: usize) -> String {
    let full = (done * width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    format!("[{}{}]", "#".repeat(full), "-".repeat(width - full))
}

/// The reject preview over the held screen: to whom, which post, and the reason as it
/// will be sent.
pub fn draw_reject(frame: &mut Frame, area: Rect, flow: &RejectFlow) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<14}"), bold),
            Span::raw(value),
        ])
    };
    let p = &flow.post.post;
    let mut lines = vec![
        field(text::REJECT_TO, safe(&p.sender)),
        field(text::REJECT_POST, safe(&p.subject)),
        field(text::REJECT_HELD, safe(&p.reason)),
        field(
            text::REJECT_FROM,
            text::reason_source(flow.template.as_deref()),
        ),
        Line::from(Span::styled(
            "─".repeat(area.width.saturating_sub(2) as usize),
            Style::new().fg(Color::DarkGray),
        )),
    ];
    lines.extend(flow.reason.lines().map(|l| Line::raw(safe(l))));
    super::reply::preview_box(frame, area, lines, text::reject_title(p.request_id));
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bar_fills_with_progress() {
        assert_eq!(super::bar(0, 4, 4), "[----]");
        assert_eq!(super::bar(2, 4, 4), "[##--]");
        assert_eq!(super::bar(4, 4, 4), "[####]");
        assert_eq!(super::bar(0, 0, 4), "[####]");
    }
}
