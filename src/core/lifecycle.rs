//! The triage lifecycle: the one table of which state may follow which.
//!
//! Every state change anywhere in secdesk (CLI, TUI, `mark`, `dup`, the reporter answering a
//! `needs-info` question) is checked against [`TRANSITIONS`]. Nothing else decides it.
//!
//! The open track is `new` → `acknowledged` → `triaged` → `fixing` → `disclosed`; `needs-info`
//! waits on the reporter from `acknowledged` or `triaged`; `spam`, `invalid`, `duplicate` and
//! `resolved` close a report. Every closed state (and `disclosed`, which ends the clocks) can be
//! reopened.

use crate::core::model::ReportState::{self, *};

/// From each state, the states it may move to. One row per state, in lifecycle order.
pub const TRANSITIONS: &[(ReportState, &[ReportState])] = &[
    (
        New,
        &[Acknowledged, Triaged, Spam, Invalid, Duplicate, Resolved],
    ),
    (
        Acknowledged,
        &[Triaged, NeedsInfo, Spam, Invalid, Duplicate, Resolved],
    ),
    (
        Triaged,
        &[Fixing, Disclosed, NeedsInfo, Invalid, Duplicate, Resolved],
    ),
    (Fixing, &[Disclosed, Resolved, Triaged, Invalid, Duplicate]),
    // Leaving needs-info by hand goes anywhere the report could have gone while it waited.
    (
        NeedsInfo,
        &[Acknowledged, Triaged, Spam, Invalid, Duplicate, Resolved],
    ),
    // Reopening: a disclosed issue that needs more fixing, or is simply done.
    (Disclosed, &[Fixing, Resolved]),
    // Reopening a rejected report, or correcting why it was rejected.
    (Spam, &[New, Acknowledged, Triaged, Invalid]),
    (Invalid, &[New, Acknowledged, Triaged, Spam]),
    (Duplicate, &[New, Acknowledged, Triaged, Spam, Invalid]),
    (Resolved, &[Acknowledged, Triaged, Fixing, Disclosed]),
];

/// The states `from` may move to.
pub fn allowed_from(from: ReportState) -> &'static [ReportState] {
    TRANSITIONS
        .iter()
        .find(|(state, _)| *state == from)
        .map(|(_, to)| *to)
        // Every state has a row; the `every_state_has_one_row` test guarantees it.
        .unwrap_or(&[])
}

/// True when the table lets `from` move to `to`.
pub fn is_allowed(from: ReportState, to: ReportState) -> bool {
    allowed_from(from).contains(&to)
}

/// A move the table does not allow, with what is allowed instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot move from {from} to {to}: from {from} the allowed states are {}", list(.allowed))]
pub struct TransitionRefused {
    pub from: ReportState,
    pub to: ReportState,
    pub allowed: &'static [ReportState],
}

/// Checks one move against the table.
pub fn check(from: ReportState, to: ReportState) -> Result<(), TransitionRefused> {
    if is_allowed(from, to) {
        Ok(())
    } else {
        Err(TransitionRefused {
            from,
            to,
            allowed: allowed_from(from),
        })
    }
}

/// `a, b, c` for a list of states.
pub fn list(states: &[ReportState]) -> String {
    states
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_one_row() {
        for s in ReportState::ALL {
            let rows = TRANSITIONS.iter().filter(|(from, _)| from == s).count();
            assert_eq!(rows, 1, "{s} has {rows} rows");
        }
    }

    #[test]
    fn the_issue_lifecycle_is_allowed() {
        let allowed = [
            (New, Acknowledged),
            (Acknowledged, Triaged),
            (Triaged, Fixing),
            (Fixing, Disclosed),
            (Acknowledged, NeedsInfo),
            (Triaged, NeedsInfo),
            (NeedsInfo, Acknowledged),
            (NeedsInfo, Triaged),
            (New, Spam),
            (New, Invalid),
            (New, Duplicate),
            (Fixing, Resolved),
            (Disclosed, Resolved),
        ];
        for (from, to) in allowed {
            assert_eq!(check(from, to), Ok(()), "{from} -> {to}");
        }
    }

    #[test]
    fn every_allowed_transition_in_the_table_passes_check() {
        for (from, tos) in TRANSITIONS {
            for to in *tos {
                assert!(check(*from, *to).is_ok(), "{from} -> {to}");
                assert_ne!(from, to, "a state never moves to itself");
            }
        }
    }

    #[test]
    fn every_closed_state_can_be_reopened() {
        for s in ReportState::ALL.iter().filter(|s| s.is_closed()) {
            assert!(
                allowed_from(*s).iter().any(|t| !t.is_closed()),
                "{s} cannot be reopened"
            );
        }
    }

    #[test]
    fn needs_info_only_from_acknowledged_and_triaged() {
        for s in ReportState::ALL {
            let expected = matches!(s, Acknowledged | Triaged);
            assert_eq!(is_allowed(*s, NeedsInfo), expected, "{s} -> needs-info");
        }
    }

    #[test]
    fn refusal_lists_the_allowed_states() {
        let err = check(New, Fixing).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot move from new to fixing: from new the allowed states are \
             acknowledged, triaged, spam, invalid, duplicate, resolved"
        );
        let err = check(Spam, Spam).unwrap_err().to_string();
        assert!(err.contains("new, acknowledged, triaged, invalid"), "{err}");
    }
}
