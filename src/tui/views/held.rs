//! The held screen: the mailing list's hold queue, one post a line, with the classifier's
//! verdict first (spam in red; an unsure one as the queue draws it, `spam??` in reverse
//! yellow; `lost`, `mismatch` or `shared` likewise for a post whose text is in doubt, which
//! was never judged: `core::moderation::doubt`), then the list, the request id, the sender, the subject and
//! Mailman's hold reason; below the post under the cursor, the sender authentication its
//! verdict weighed and whose it is (`AuthView::line`, as the report view shows it); a
//! sweep's progress on top while one runs; what the listing could not show (held entries
//! without a usable request id, a count that disagrees) in red above the posts; and the reject preview, the reason exactly as
//! Mailman will mail it. Every field is the sender's text: all of it passes through `safe`.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::{class_style, safe};
use crate::core::model::Outcome;
use crate::core::moderation::ClassifiedPost;
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
        lines.push(sweep_line(done, total));
    }
    // At most a third of the screen, so that the post under the cursor always shows.
    let gap_rows = (area.height.saturating_sub(1) as usize / 3).max(1);
    lines.extend(gap_lines(state, area.width as usize, gap_rows));
    match &state.held {
        None => lines.push(Line::raw(text::LOADING)),
        // Wrapped: the error says what to add to the config, past any screen's width.
        Some(Err(e)) => lines.extend(
            super::wrap(&safe(e), area.width as usize)
                .into_iter()
                .map(Line::raw),
        ),
        // "Nothing held" only when the listing showed everything Mailman holds.
        Some(Ok(posts)) if posts.is_empty() => {
            lines.push(Line::raw(if state.held_gaps.is_empty() {
                text::HELD_NONE
            } else {
                text::HELD_NONE_SHOWN
            }))
        }
        Some(Ok(posts)) => {
            // The post under the cursor says whose sender authentication its verdict weighed,
            // on a line of its own below it, as the report view does; a post whose content
            // Mailman lost, or whose text is another post's, says that instead (there was no
            // message of its own to authenticate).
            let yellow = Style::new().fg(Color::Yellow);
            let auth = posts.get(state.held_cursor).and_then(|c| {
                if let Some(doubt) = &c.doubt {
                    return Some((yellow, doubt.reason()));
                }
                let line = AuthView::of(&c.auth).line()?;
                // A verdict nothing shows to be the receiving server's is not drawn quietly.
                let style = if c.auth.standing == Standing::Configured {
                    Style::new().fg(Color::DarkGray)
                } else {
                    yellow
                };
                Some((style, line))
            });
            // Wrapped under the post's sender: the lost post's advice is longer than 80 columns.
            let indent = VERDICT_CELLS + 6;
            let auth = auth.map(|(style, note)| {
                let rows = super::wrap(&safe(&note), (area.width as usize).saturating_sub(indent));
                (style, rows)
            });
            let note_rows = auth.as_ref().map_or(0, |(_, rows)| rows.len());
            let visible = (area.height.saturating_sub(1) as usize)
                .saturating_sub(lines.len())
                .saturating_sub(note_rows)
                .max(1);
            let top = state.held_cursor.saturating_sub(visible - 1);
            for (i, c) in posts.iter().enumerate().skip(top).take(visible) {
                let p = &c.post;
                let mut line = Line::from(vec![
                    verdict_cell(c),
                    Span::raw(format!(
                        " {:>5} {} · {} · {} · {}",
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
                if let Some((style, rows)) = auth.as_ref().filter(|_| i == state.held_cursor) {
                    lines.extend(rows.iter().map(|row| {
                        Line::from(Span::styled(format!("{:indent$}{row}", ""), *style))
                    }));
                }
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// What the listing could not show, in red and wrapped, above the posts: a post held that
/// the desk cannot show must not scroll out of sight. At most `max_rows` rows (a third of
/// the screen), so that the post under the cursor, which the keys act on, always shows;
/// past them the last row says how much more there is and where it is said whole. Nothing
/// while the queue is loading or could not be fetched.
fn gap_lines(state: &State, width: usize, max_rows: usize) -> Vec<Line<'static>> {
    if !matches!(state.held, Some(Ok(_))) {
        return Vec::new();
    }
    let red = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let mut rows: Vec<String> = state
        .held_gaps
        .iter()
        .flat_map(|gap| super::wrap(&safe(&format!("{} {gap}", text::HELD_NOT_SHOWN)), width))
        .collect();
    if rows.len() > max_rows {
        let more = rows.len() - (max_rows - 1);
        rows.truncate(max_rows - 1);
        rows.extend(
            super::wrap(&text::held_gaps_cut(more), width)
                .into_iter()
                .take(1),
        );
    }
    rows.into_iter()
        .map(|row| Line::from(Span::styled(row, red)))
        .collect()
}

/// The verdict column's width: `invalid??` and a space.
const VERDICT_CELLS: usize = 10;

/// A post's verdict cell. An unsure verdict is marked as the queue marks it (`valid??`, in
/// reverse yellow), and a post whose text is in doubt reads `lost`, `mismatch` or `shared`
/// (`Doubt::word`) in the same style: its "valid" only means the text was never judged, and
/// a moderator must not take it for a real report.
fn verdict_cell(c: &ClassifiedPost) -> Span<'static> {
    let class = c.verdict.class.as_str();
    let unsure = Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD);
    let (label, style) = if let Some(doubt) = &c.doubt {
        (doubt.word().to_string(), unsure)
    } else if c.verdict.outcome == Outcome::Unsure {
        (format!("{class}??"), unsure)
    } else {
        (class.to_string(), class_style(Some(class)))
    };
    // The last cell stays unstyled: a marked word never runs into the request id.
    Span::styled(format!("{label:<w$}", w = VERDICT_CELLS - 1), style)
}

/// A sweep's progress, on top while it runs.
fn sweep_line(done: usize, total: usize) -> Line<'static> {
    Line::from(Span::styled(
        format!(
            "{} {}",
            bar(done, total, 20),
            text::sweep_progress(done, total)
        ),
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
    ))
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
/// will be sent, scrolled as the reply preview is (j/k, Space, PgUp/PgDn; the bottom border
/// says where it is). The fields above the reason are one row each: a subject of thousands
/// of characters must not push the reason out of sight.
pub fn draw_reject(frame: &mut Frame, area: Rect, flow: &RejectFlow) {
    let lines = reject_lines(flow, area.width);
    let title = text::reject_title(flow.post.post.request_id);
    super::reply::preview_box(frame, area, lines, title, flow.scroll);
}

/// How far the reject preview scrolls on the desk's screen.
pub fn reject_max_scroll(state: &State) -> u16 {
    let Some(flow) = state.held_reject.as_ref() else {
        return 0;
    };
    super::reply::preview_max_scroll(&reject_lines(flow, state.width), state)
}

/// The preview's lines for a box `width` cells wide: the fields, cut to one row, then the
/// reason whole.
fn reject_lines(flow: &RejectFlow, width: u16) -> Vec<Line<'static>> {
    const NAME: usize = 14;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    // The box's borders take two cells.
    let room = (width as usize).saturating_sub(2 + NAME).max(1);
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<NAME$}"), bold),
            Span::raw(super::fit(&value, room)),
        ])
    };
    let p = &flow.post.post;
    let mut lines = vec![
        field(text::REJECT_TO, super::safe_cell(&p.sender)),
        field(text::REJECT_POST, super::safe_cell(&p.subject)),
        field(text::REJECT_HELD, super::safe_cell(&p.reason)),
        field(
            text::REJECT_FROM,
            text::reason_source(flow.template.as_deref()),
        ),
        Line::from(Span::styled(
            "─".repeat(width.saturating_sub(2) as usize),
            Style::new().fg(Color::DarkGray),
        )),
    ];
    lines.extend(flow.reason.lines().map(|l| Line::raw(safe(l))));
    lines
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
