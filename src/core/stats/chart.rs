//! Charts of the yearly figures (`stats --svg FILE`, `--html FILE`), drawn with `plotters`'
//! SVG backend: intake by class per period, the median time to first response against its
//! target, and the share of reports that met each clock.

use plotters::prelude::*;

use super::period::{PeriodFigures, YearFigures};
use crate::core::sanitize::html_text;

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct ChartError(String);

const WIDTH: u32 = 960;
const PANEL: u32 = 320;

/// The series drawn, in order: (panel, name, one value per period or None for a gap).
pub fn series(f: &YearFigures) -> Vec<(&'static str, &'static str, Vec<Option<f64>>)> {
    let col = |pick: fn(&PeriodFigures) -> Option<f64>| -> Vec<Option<f64>> {
        f.by_period.iter().map(pick).collect()
    };
    vec![
        ("intake", "spam", col(|p| Some(p.spam as f64))),
        ("intake", "invalid", col(|p| Some(p.invalid as f64))),
        ("intake", "valid", col(|p| Some(p.valid as f64))),
        (
            "intake",
            "unclassified",
            col(|p| Some(p.unclassified as f64)),
        ),
        (
            "response",
            "first response (median hours)",
            col(|p| p.first_response_median_hours),
        ),
        (
            "efficiency",
            "acknowledge",
            col(|p| p.acknowledge_efficiency),
        ),
        ("efficiency", "triage", col(|p| p.triage_efficiency)),
        ("efficiency", "close", col(|p| p.close_efficiency)),
    ]
}

/// The three charts as one SVG document.
pub fn svg(f: &YearFigures, acknowledge_target_hours: f64) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, PANEL * 3)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let panels = root.split_evenly((3, 1));
        let labels: Vec<String> = f.by_period.iter().map(|p| p.period.clone()).collect();
        let all = series(f);
        for (area, panel) in panels.iter().zip(panels_of(f, acknowledge_target_hours)) {
            draw_panel(area, &panel, &all, &labels)?;
        }
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// One series as [`series`] gives it: (panel, name, one value per period or None for a gap).
type Series = (&'static str, &'static str, Vec<Option<f64>>);

/// One of the three charts: the panel whose series it draws, its title, and the target it
/// draws as a line, if any.
struct Panel {
    name: &'static str,
    title: String,
    target: Option<f64>,
}

/// The three charts, top to bottom: intake, first response against its target, efficiency.
fn panels_of(f: &YearFigures, acknowledge_target_hours: f64) -> [Panel; 3] {
    let by = format!("{:?}", f.by).to_lowercase();
    [
        Panel {
            name: "intake",
            title: format!("Reports received per {by} ({}), by class", f.time_zone),
            target: None,
        },
        Panel {
            name: "response",
            title: "Median time to first response (hours) against the target".to_string(),
            target: Some(acknowledge_target_hours),
        },
        Panel {
            name: "efficiency",
            title: "Share of reports that met each clock".to_string(),
            target: None,
        },
    ]
}

/// Draws one chart into `area`: its series, one x step per period `labels` names, the
/// target line and the legend.
fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    panel: &Panel,
    all: &[Series],
    labels: &[String],
) -> Result<(), ChartError> {
    let colours = [RED, MAGENTA, GREEN, BLACK];
    let lines: Vec<_> = all.iter().filter(|s| s.0 == panel.name).collect();
    let top = lines
        .iter()
        .flat_map(|s| s.2.iter().flatten())
        .copied()
        .chain(panel.target)
        .fold(1.0_f64, f64::max)
        * 1.1;
    let n = labels.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0..n, 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(n.min(13))
        .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
        .draw()
        .map_err(err)?;
    for (i, (_, name, values)) in lines.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let points: Vec<(usize, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(x, v)| v.map(|v| (x, v)))
            .collect();
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(err)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    if let Some(t) = panel.target {
        chart
            .draw_series(LineSeries::new(
                vec![(0, t), (n.saturating_sub(1), t)],
                BLUE.stroke_width(1),
            ))
            .map_err(err)?
            .label("target")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// One self-contained HTML page: the charts inline, and the figures as a table.
pub fn html(f: &YearFigures, svg: &str, title: &str) -> String {
    let cell = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_else(|| "-".into());
    let mut rows = String::new();
    for p in &f.by_period {
        rows += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            html_text(&p.period),
            p.spam,
            p.invalid,
            p.valid,
            p.unclassified,
            cell(p.first_response_median_hours),
            cell(p.acknowledge_efficiency),
            cell(p.triage_efficiency),
            cell(p.close_efficiency),
        );
    }
    let members: String = f
        .members
        .iter()
        .map(|m| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                html_text(&m.name),
                m.coordinated,
                m.notes,
                m.replies,
                html_text(m.last_activity.as_deref().unwrap_or("-")),
                if m.inactive { "inactive" } else { "" }
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #999;padding:2px 8px;text-align:right}}</style></head><body>\n\
         <h1>{t}</h1>\n<p>{tz}</p>\n{svg}\n<h2>Per {by:?} ({zone})</h2>\n<table><tr><th>period</th><th>spam</th>\
         <th>invalid</th><th>valid</th><th>unclassified</th><th>median first response (h)</th>\
         <th>acknowledge met</th><th>triage met</th><th>close met</th></tr>\n{rows}</table>\n\
         <h2>Members</h2>\n<table><tr><th>member</th><th>coordinated</th><th>notes</th>\
         <th>replies</th><th>last activity</th><th></th></tr>\n{members}</table>\n</body></html>\n",
        t = html_text(title),
        by = f.by,
        tz = periods_in(&f.time_zone),
        zone = html_text(&f.time_zone),
    )
}

/// What the HTML page says about its periods.
pub fn periods_in(zone: &str) -> String {
    if zone == super::TIME_ZONE {
        "Days, weeks, months, quarters and years are cut at midnight UTC: a report sent late \
         on 31 December west of Greenwich counts in the next year."
            .to_string()
    } else {
        format!(
            "Days, weeks, months, quarters and years are cut at midnight in {}.",
            html_text(zone)
        )
    }
}

fn err(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}
