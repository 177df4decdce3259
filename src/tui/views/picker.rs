//! Pickers: the team members for `a`, the allowed transitions for `S`, the invalid reasons,
//! the reply templates for `r`, the reports for `d` (narrowed as you type); and the yes/no
//! question a bulk action or a quit over a selection asks first.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{centered, fit, safe};
use crate::tui::app::{Confirm, Picker, PickerPurpose};
use crate::tui::text;

/// The picker over `area`; `target` names the report(s) the choice changes.
pub fn draw(frame: &mut Frame, area: Rect, picker: &Picker, target: &str) {
    let title = text::picker_title(
        match picker.purpose {
            PickerPurpose::Assign => text::ASSIGN_TITLE,
            PickerPurpose::State => text::STATE_TITLE,
            PickerPurpose::InvalidReason => text::REASON_TITLE,
            PickerPurpose::Template => text::TEMPLATE_TITLE,
            PickerPurpose::DuplicateOf => text::DUPLICATE_TITLE,
            PickerPurpose::Answered => text::ANSWERED_TITLE,
            PickerPurpose::RejectReason => text::REJECT_REASON_TITLE,
        },
        target,
    );
    let title = title.as_str();
    let typed = matches!(
        picker.purpose,
        PickerPurpose::Assign | PickerPurpose::DuplicateOf
    );
    let matching = picker.matching();
    let widest = picker
        .items
        .iter()
        .map(|(l, _)| l.chars().count() as u16 + 4)
        .max()
        .unwrap_or(20)
        .max(title.chars().count() as u16 + 4)
        // "> " + the filter and its cursor + "  " + the hint, inside the borders.
        .max(text::PICKER_TYPE_HINT.chars().count() as u16 + 10);
    let width = widest.min(area.width);
    let inner_w = width.saturating_sub(2) as usize;
    let extra = u16::from(typed);
    let room = area.height.saturating_sub(2 + extra).max(1) as usize;
    // Keep the cursor in view in a list longer than the screen.
    let first = picker.cursor.saturating_sub(room.saturating_sub(1));
    let mut lines: Vec<Line> = Vec::new();
    if typed {
        lines.push(Line::from(vec![
            Span::styled("> ", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(safe(&picker.filter)),
            Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
            Span::styled(
                format!("  {}", text::PICKER_TYPE_HINT),
                Style::new().fg(Color::DarkGray),
            ),
        ]));
    }
    for (i, item) in matching.iter().enumerate().skip(first).take(room) {
        let label = &item.0;
        let number = if typed || i >= 9 {
            String::new()
        } else {
            format!("{} ", i + 1)
        };
        let line = Line::raw(fit(&format!(" {number}{}", safe(label)), inner_w));
        lines.push(if i == picker.cursor {
            line.style(Style::new().add_modifier(Modifier::REVERSED))
        } else {
            line
        });
    }
    if matching.is_empty() {
        lines.push(Line::styled(
            text::NOTHING_LISTED,
            Style::new().fg(Color::DarkGray),
        ));
    }
    let popup = centered(area, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        popup,
    );
}

/// The question, boxed in the middle of the screen, wrapped to fit.
pub fn draw_confirm(frame: &mut Frame, area: Rect, confirm: &Confirm) {
    let width = (confirm.question.chars().count() as u16 + 4)
        .min(area.width)
        .min(72);
    let inner = width.saturating_sub(2).max(1);
    let paragraph = Paragraph::new(Line::styled(
        confirm.question.clone(),
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
    ))
    .wrap(Wrap { trim: true });
    let rows = paragraph.line_count(inner) as u16;
    let popup = centered(area, width, rows + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        paragraph.block(
            Block::default()
                .borders(Borders::ALL)
                .title(text::CONFIRM_TITLE),
        ),
        popup,
    );
}
