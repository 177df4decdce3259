//! The stats screen: weekly (or, with `m`, monthly) intake by class as a bar chart, counts
//! by state, median response times against their targets with the share of reports that met
//! each target (`response_efficiency`, PEP 811's clocks too), and the overdue list, which
//! j/k scroll when it is longer than its box.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Paragraph};
use ratatui::Frame;

use super::{class_style, due, safe};
use crate::tui::app::State;
use crate::tui::stats_data::StatsData;
use crate::tui::text;

/// " {state:<13}{n:>7}" and the borders.
const STATES_WIDTH: u16 = 1 + 13 + 7 + 2;
/// " {clock:<14}{median:>7}{target:>7}{n:>5}{met:>6}" and the borders.
const RESPONSE_WIDTH: u16 = 1 + 14 + 7 + 7 + 5 + 6 + 2;
/// The narrowest overdue list worth putting beside them.
const OVERDUE_MIN: u16 = 30;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let Some(stats) = state.stats.as_deref() else {
        frame.render_widget(Paragraph::new(text::LOADING), area);
        return;
    };
    let (chart, states, response, overdue) = areas(area, stats);
    draw_intake(frame, chart, state, stats);
    draw_states(frame, states, stats);
    frame.render_widget(
        Paragraph::new(response_lines(stats)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(text::RESPONSE_TITLE),
        ),
        response,
    );
    draw_overdue(frame, overdue, state, stats);
}

/// Where the chart, the two tables and the overdue list go: the chart over the other three
/// side by side on a wide screen, the overdue list under the tables on a narrow one.
fn areas(area: Rect, stats: &StatsData) -> (Rect, Rect, Rect, Rect) {
    // Each box is as wide as its widest line and its borders, so no count is clipped. On a
    // narrow screen the overdue list goes below the two tables instead of beside them.
    let wide = area.width >= STATES_WIDTH + RESPONSE_WIDTH + OVERDUE_MIN;
    if wide {
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
        let response_rows = 1 + stats.efficiency.len().max(stats.response.len());
        let tables = stats
            .by_state
            .iter()
            .filter(|(_, n)| *n > 0)
            .count()
            .max(response_rows) as u16
            + 2;
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
    }
}

/// The most recent weeks (or months) that fit, each a group of one bar per class.
fn draw_intake(frame: &mut Frame, chart: Rect, state: &State, stats: &StatsData) {
    let per_group = 3 * 3 + 1;
    let fit = (chart.width.saturating_sub(2) / per_group).max(1) as usize;
    // The block's corners take two cells of the title's room.
    let room = usize::from(chart.width.saturating_sub(2));
    let (series, title) = if state.stats_monthly {
        (&stats.monthly, text::monthly_intake(&stats.zone, room))
    } else {
        (&stats.weekly, text::weekly_intake(&stats.zone, room))
    };
    let weeks = &series[series.len().saturating_sub(fit)..];
    let mut barchart = BarChart::default()
        .block(Block::default().borders(Borders::ALL).title(title))
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
        // "W47" for a week, "2026-11" for a month.
        let label = match week.split_once("-W") {
            Some((_, w)) => format!("W{w}"),
            None => week.clone(),
        };
        barchart = barchart.data(BarGroup::default().label(Line::from(label)).bars(&bars));
    }
    frame.render_widget(barchart, chart);
}

/// Only the states that hold reports: all ten, mostly zero, would not fit a small screen.
fn draw_states(frame: &mut Frame, states: Rect, stats: &StatsData) {
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
}

/// How many overdue reports the list shows at once on the desk's screen.
pub fn overdue_rows(state: &State) -> usize {
    let Some(stats) = state.stats.as_deref() else {
        return 0;
    };
    // The body: the screen less the status line and the footer.
    let body = Rect::new(0, 0, state.width, state.height.saturating_sub(2));
    areas(body, stats).3.height.saturating_sub(2) as usize
}

/// How far the overdue list scrolls (j/k): its last report at the bottom of its box.
pub fn overdue_max_scroll(state: &State) -> usize {
    let listed = state.stats.as_deref().map_or(0, |s| s.overdue.len());
    listed.saturating_sub(overdue_rows(state))
}

/// The overdue reports, each with how late it is. A list longer than its box scrolls with
/// j/k, and its title says which of them show.
fn draw_overdue(frame: &mut Frame, overdue: Rect, state: &State, stats: &StatsData) {
    let shown = overdue.height.saturating_sub(2) as usize;
    let listed = stats.overdue.len();
    let top = state.stats_scroll.min(listed.saturating_sub(shown));
    let last = (top + shown).min(listed);
    let title = if last - top < stats.overdue_count {
        text::overdue_title_part(
            top + 1,
            last,
            listed,
            stats.overdue_count,
            overdue.width as usize,
        )
    } else {
        text::overdue_title(stats.overdue_count)
    };
    let overdue_lines: Vec<Line> = stats
        .overdue
        .iter()
        .skip(top)
        .take(shown)
        .map(|(id, subject, deadline)| {
            let (late, _) = due(state.now, *deadline);
            Line::from(vec![
                Span::styled(format!(" #{id:<5} {late:>9} "), Style::new().fg(Color::Red)),
                Span::raw(safe(subject)),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(overdue_lines).block(Block::default().borders(Borders::ALL).title(title)),
        overdue,
    );
}

/// The clocks: median against target, and the share that met the target. PEP 811's
/// coordinator and finish clocks have a share but no median.
fn response_lines(stats: &StatsData) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(Span::styled(
        format!(
            " {:<14}{:>7}{:>7}{:>5}{:>6}",
            "clock", "median", "target", "n", "met"
        ),
        Style::new().add_modifier(Modifier::BOLD),
    ))];
    let bad = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let good = Style::new().fg(Color::Green);
    for (i, (clock, met, missed, share)) in stats.efficiency.iter().enumerate() {
        let timed = stats.response.get(i).filter(|r| r.0 == *clock);
        let (median_text, late, target, n) = match timed {
            Some((_, Some(m), target, n)) => (hours(*m), m > target, hours(*target), *n),
            Some((_, None, target, n)) => ("-".to_string(), false, hours(*target), *n),
            // PEP 811's clocks, counted in whole days.
            None => {
                let days = match clock.as_str() {
                    "coordinator" => crate::core::pep811::COORDINATOR_DAYS,
                    _ => crate::core::pep811::FINISH_DAYS,
                };
                (
                    "-".to_string(),
                    false,
                    format!("{days}d"),
                    (*met + *missed) as u64,
                )
            }
        };
        let share_text = share.map_or("-".to_string(), |s| format!("{:.0}%", s * 100.0));
        out.push(Line::from(vec![
            Span::raw(format!(" {clock:<14}")),
            Span::styled(format!("{median_text:>7}"), if late { bad } else { good }),
            Span::raw(format!("{target:>7}{n:>5}")),
            Span::styled(
                format!("{share_text:>6}"),
                if missed > met { bad } else { good },
            ),
        ]));
    }
    out
}

/// "36h" under three days, "4.5d" above.
fn hours(h: f64) -> String {
    if h < 72.0 {
        format!("{h:.0}h")
    } else {
        format!("{:.1}d", h / 24.0)
    }
}
