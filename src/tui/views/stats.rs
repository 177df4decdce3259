//! The stats screen: weekly intake by class as a bar chart, counts by state, median
//! response times against their targets, and the overdue list.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Paragraph};
use ratatui::Frame;

use super::{class_style, due, safe};
use crate::tui::app::State;
use crate::tui::text;

/// " {state:<13}{n:>7}" and the borders.
const STATES_WIDTH: u16 = 1 + 13 + 7 + 2;
/// " {clock:<18}{median:>9}{target:>9}{n:>6}" and the borders.
const RESPONSE_WIDTH: u16 = 1 + 18 + 9 + 9 + 6 + 2;
/// The narrowest overdue list worth putting beside them.
const OVERDUE_MIN: u16 = 30;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let Some(stats) = state.stats.as_deref() else {
        frame.render_widget(Paragraph::new(text::LOADING), area);
        return;
    };
    // Each box is as wide as its widest line and its borders, so no count is clipped. On a
    // narrow screen the overdue list goes below the two tables instead of beside them.
    let wide = area.width >= STATES_WIDTH + RESPONSE_WIDTH + OVERDUE_MIN;
    let (chart, states, response, overdue) = if wide {
        let [chart, lower] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
        let [states, response, overdue] = Layout::horizontal([
            Constraint::Length(STATES_WIDTH),
            Constraint::Length(RESPONSE_WIDTH),
            Constraint::Min(OVERDUE_MIN),
        ])
        .areas(lower);
        (chart, states, response, overdue)
    } else {
        let tables = stats.by_state.iter().filter(|(_, n)| *n > 0).count().max(4) as u16 + 2;
        let [chart, middle, overdue] = Layout::vertical([
            Constraint::Percentage(35),
            Constraint::Length(tables),
            Constraint::Min(3),
        ])
        .areas(area);
        let [states, response] = Layout::horizontal([
            Constraint::Length(STATES_WIDTH),
            Constraint::Length(RESPONSE_WIDTH),
        ])
        .areas(middle);
        (chart, states, response, overdue)
    };

    // The most recent weeks that fit, each a group of one bar per class.
    let per_group = 3 * 3 + 1;
    let fit = (chart.width.saturating_sub(2) / per_group).max(1) as usize;
    let weeks = &stats.weekly[stats.weekly.len().saturating_sub(fit)..];
    let mut barchart = BarChart::default()
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Weekly intake by class (spam, invalid, valid) "),
        )
        .bar_width(3)
        .bar_gap(0)
        .group_gap(1);
    for (week, counts) in weeks {
        let bars: Vec<Bar> = counts
            .iter()
            .map(|(class, n)| {
                Bar::default()
                    .value(*n)
                    .style(class_style(Some(class)))
                    .value_style(class_style(Some(class)).add_modifier(Modifier::REVERSED))
            })
            .collect();
        let label = week.split_once('-').map(|(_, w)| w).unwrap_or(week);
        barchart = barchart.data(
            BarGroup::default()
                .label(Line::from(label.to_string()))
                .bars(&bars),
        );
    }
    frame.render_widget(barchart, chart);

    // Only the states that hold reports: all ten, mostly zero, would not fit a small screen.
    let state_lines: Vec<Line> = stats
        .by_state
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| Line::raw(format!(" {s:<13}{n:>7}")))
        .collect();
    frame.render_widget(
        Paragraph::new(state_lines)
            .block(Block::default().borders(Borders::ALL).title(" By state ")),
        states,
    );

    let mut response_lines = vec![Line::from(Span::styled(
        format!(" {:<18}{:>9}{:>9}{:>6}", "clock", "median", "target", "n"),
        Style::new().add_modifier(Modifier::BOLD),
    ))];
    for (clock, median, target, n) in &stats.response {
        let (median_text, late) = match median {
            Some(m) => (hours(*m), m > target),
            None => ("-".to_string(), false),
        };
        let style = if late {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Green)
        };
        response_lines.push(Line::from(vec![
            Span::raw(format!(" {clock:<18}")),
            Span::styled(format!("{median_text:>9}"), style),
            Span::raw(format!("{:>9}{n:>6}", hours(*target))),
        ]));
    }
    frame.render_widget(
        Paragraph::new(response_lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Median response vs target "),
        ),
        response,
    );

    let overdue_lines: Vec<Line> = stats
        .overdue
        .iter()
        .map(|(id, subject, deadline)| {
            let (late, _) = due(state.now, *deadline);
            Line::from(vec![
                Span::styled(format!(" #{id:<5} {late:>9} "), Style::new().fg(Color::Red)),
                Span::raw(safe(subject)),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(overdue_lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Overdue ({}) ", stats.overdue_count)),
        ),
        overdue,
    );
}

/// "36h" under three days, "4.5d" above.
fn hours(h: f64) -> String {
    if h < 72.0 {
        format!("{h:.0}h")
    } else {
        format!("{:.1}d", h / 24.0)
    }
}
