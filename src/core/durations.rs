//! How long things took, as figures: the median and 90th percentile of a set of durations
//! in hours. A leaf shared by the report statistics (`core::stats`) and the hold queue's
//! (`core::moderation::stats`), so neither imports the other for it.

use serde::Serialize;

/// The distribution of one duration, in hours.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TimeFigures {
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub count: usize,
}

/// Median, 90th percentile and count of `hours`.
pub fn figures(mut hours: Vec<f64>) -> TimeFigures {
    hours.sort_by(f64::total_cmp);
    TimeFigures {
        median_hours: percentile(&hours, 0.5),
        p90_hours: percentile(&hours, 0.9),
        count: hours.len(),
    }
}

/// The `p` quantile of sorted values, interpolating linearly between the closest ranks;
/// rounded to hundredths of an hour.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = p * last as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let value = sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64);
    Some((value * 100.0).round() / 100.0)
}
