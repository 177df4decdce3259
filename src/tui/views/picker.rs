//! Pickers: the team members for `a`, the allowed transitions for `S`, the invalid reasons,
//! the reply templates for `r`.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::{centered, safe};
use crate::tui::app::{Picker, PickerPurpose};
use crate::tui::text;

pub fn draw(frame: &mut Frame, area: Rect, picker: &Picker) {
    let title = match picker.purpose {
        PickerPurpose::Assign => text::ASSIGN_TITLE,
        PickerPurpose::State => text::STATE_TITLE,
        PickerPurpose::InvalidReason => text::REASON_TITLE,
        PickerPurpose::Template => text::TEMPLATE_TITLE,
    };
    let lines: Vec<Line> = picker
        .items
        .iter()
        .enumerate()
        .map(|(i, (label, _))| {
            let line = Line::raw(format!(" {} ", safe(label)));
            if i == picker.cursor {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    let width = picker
        .items
        .iter()
        .map(|(l, _)| l.chars().count() as u16 + 4)
        .max()
        .unwrap_or(20)
        .max(title.chars().count() as u16 + 4);
    let popup = centered(area, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        popup,
    );
}
