//! Races between desks whose winners must still make sense together: a report's state and
//! class are separate registers, but a closing state implies its class on every desk.

use crate::desk::{server, Desk};

#[test]
fn a_state_closed_as_spam_against_a_class_confirmed_invalid_ends_spam_everywhere() {
    let server = server(1);
    let ada = Desk::new(&server, "Ada", "ada@example.org");
    let bo = Desk::new(&server, "Bo", "bo@example.org");
    let cy = Desk::new(&server, "Cy", "cy@example.org");
    for d in [&ada, &bo, &cy] {
        d.sync();
    }
    // At the same time: Bo closes it as invalid (which confirms the class invalid), Cy marks
    // it spam. Cy's state and Bo's class have the greater clocks of their registers.
    bo.ok(&["state", "1", "invalid", "--reason", "third-party"]);
    cy.ok(&["mark", "1", "spam"]);
    bo.sync();
    cy.sync();
    bo.sync();
    ada.sync();
    for d in [&ada, &bo, &cy] {
        let report = d.show(1);
        assert_eq!(report["state"], "spam", "{}: {report}", d.email);
        assert_eq!(report["class"], "spam", "{}: {report}", d.email);
        assert_eq!(report["class_confirmed"], true, "{}: {report}", d.email);
        // The classifier learned what moderation acts on.
        let labels = d.strings("SELECT label FROM classify_trained");
        assert_eq!(
            labels.into_iter().collect::<Vec<_>>(),
            ["spam"],
            "{}",
            d.email
        );
    }
    assert_eq!(ada.shared_state(), bo.shared_state());
    assert_eq!(ada.shared_state(), cy.shared_state());
}
