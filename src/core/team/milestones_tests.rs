//! The clock milestones agree on every desk whatever order the team's events arrive in.

use chrono::{DateTime, TimeZone, Utc};

use super::store_tests::{desk, ship};
use crate::core::model::ReportState;
use crate::core::store::Store;
use crate::core::triage::{self, Request};

fn at(actor: &str, minute: u32) -> Request {
    Request::new(actor).at(Utc.with_ymd_and_hms(2026, 3, 3, 9, minute, 0).unwrap())
}

/// Triage met at, coordinator set at, and the finish deadline of report 1.
fn clocks(store: &Store) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<String>) {
    let m = crate::core::clocks::milestones(store.conn(), Some(1)).unwrap()[&1].clone();
    let c = crate::core::pep811::coordination(store.conn(), Some(1)).unwrap()[&1].clone();
    let mut deadlines = m.deadlines(&Default::default());
    c.fill(&mut deadlines);
    (m.triaged, c.coordinator_set, deadlines.finish)
}

#[test]
fn triage_and_coordinator_milestones_agree_whatever_the_order_of_arrival() {
    let (_a, mut ada) = desk(1);
    let (_b, mut bo) = desk(1);
    // At the same time: Ada triages it and takes it at 9:00; Bo acknowledges it and takes it
    // at 9:05. Bo's changes win both registers (same clocks, the greater actor).
    let ada_email = "ada@example.org";
    let bo_email = "bo@example.org";
    triage::set_state(
        &mut ada,
        &at(ada_email, 0),
        1,
        ReportState::Triaged,
        None,
        None,
    )
    .unwrap();
    triage::take(&mut ada, &at(ada_email, 0), 1).unwrap();
    triage::set_state(
        &mut bo,
        &at(bo_email, 5),
        1,
        ReportState::Acknowledged,
        None,
        None,
    )
    .unwrap();
    triage::take(&mut bo, &at(bo_email, 5), 1).unwrap();
    // Cy's desk hears Ada first, Dee's hears Bo first.
    let (_c, mut cy) = desk(1);
    ship(&ada, &mut cy);
    ship(&bo, &mut cy);
    let (_d, mut dee) = desk(1);
    ship(&bo, &mut dee);
    ship(&ada, &mut dee);
    ship(&bo, &mut ada);
    ship(&ada, &mut bo);
    let nine = Utc.with_ymd_and_hms(2026, 3, 3, 9, 0, 0).unwrap();
    let expected = (
        Some(nine),
        Some(nine),
        Some("2026-06-01T09:00:00Z".to_string()),
    );
    for (name, store) in [("ada", &ada), ("bo", &bo), ("cy", &cy), ("dee", &dee)] {
        assert_eq!(clocks(store), expected, "{name}");
        let state: String = store
            .conn()
            .query_row("SELECT state FROM reports WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(state, "acknowledged", "{name}");
    }
}
