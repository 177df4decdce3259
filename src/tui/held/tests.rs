use super::*;
use crate::core::model::{Class, Outcome, Verdict};
use crate::core::moderation::HeldPost;
use crate::tui::update::update;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn post(id: u64, class: Class, outcome: Outcome) -> ClassifiedPost {
    ClassifiedPost {
        post: HeldPost {
            list: "security@example.org".into(),
            request_id: id,
            message_id: Some(format!("{id}@example.net")),
            sender: format!("s{id}@example.net"),
            subject: format!("post {id}"),
            reason: "not a member".into(),
            hold_date: None,
            raw: Vec::new(),
        },
        verdict: Verdict {
            class,
            outcome,
            spam_score: 0.5,
            confidence: 0.9,
            reasons: Vec::new(),
        },
        auth: Default::default(),
        doubt: None,
    }
}

fn held_desk(posts: Vec<ClassifiedPost>) -> State {
    let config = crate::cli::demo::demo_config().unwrap();
    let mut state = crate::tui::initial_state(&config, chrono::Utc::now());
    state.screen = Screen::Held;
    state.held = Some(Ok(posts));
    state
}

fn key(state: &mut State, c: char) -> Vec<Request> {
    let k = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    update(state, Action::Key(k))
}

#[test]
fn s_asks_with_the_counts_and_y_sweeps_only_the_spam() {
    let mut state = held_desk(vec![
        post(1, Class::Spam, Outcome::Spam),
        post(2, Class::Valid, Outcome::Ham),
        post(3, Class::Spam, Outcome::Unsure),
        post(4, Class::Spam, Outcome::Spam),
        post(5, Class::Invalid, Outcome::Ham),
    ]);
    assert!(key(&mut state, 'S').is_empty());
    let Overlay::Confirm(c) = &state.overlay else {
        panic!("S asks first: {:?}", state.overlay);
    };
    assert!(
        c.question
            .starts_with("Discard 2 held posts classified spam? 3 classified"),
        "{}",
        c.question
    );
    let out = key(&mut state, 'y');
    let [Request::HeldSweep(doomed)] = out.as_slice() else {
        panic!("{out:?}");
    };
    let ids: Vec<u64> = doomed.iter().map(|p| p.post.request_id).collect();
    assert_eq!(
        ids,
        [1, 4],
        "never the unsure spam, the valid or the invalid"
    );
    // Progress shows on the held screen until the sweep's answer.
    update(&mut state, Action::SweepProgress { done: 1, total: 2 });
    assert_eq!(state.held_sweep, Some((1, 2)));
    let out = update(&mut state, Action::Moderated(Ok("swept".into())));
    assert_eq!(state.held_sweep, None);
    assert_eq!(out, [Request::HeldFetch]);
}

#[test]
fn s_without_spam_and_any_key_but_y_change_nothing() {
    let mut state = held_desk(vec![post(2, Class::Valid, Outcome::Ham)]);
    assert!(key(&mut state, 'S').is_empty());
    assert_eq!(state.overlay, Overlay::None);
    assert!(state
        .status
        .as_ref()
        .unwrap()
        .text
        .contains("nothing to sweep"));
    let mut state = held_desk(vec![post(1, Class::Spam, Outcome::Spam)]);
    key(&mut state, 'S');
    assert!(key(&mut state, 'n').is_empty());
    assert_eq!(state.overlay, Overlay::None);
}

#[test]
fn r_previews_the_chosen_reason_and_n_sends_nothing() {
    let mut state = held_desk(vec![post(7, Class::Valid, Outcome::Ham)]);
    let out = key(&mut state, 'r');
    let [Request::RejectReasons(p)] = out.as_slice() else {
        panic!("{out:?}");
    };
    let reasons = vec![
        reject_reasons::Reason {
            name: "off-topic".into(),
            text: Ok("Not here.\n".into()),
        },
        reject_reasons::Reason {
            name: "broken".into(),
            text: Err("reject reason \"broken\": unknown placeholder".into()),
        },
    ];
    update(
        &mut state,
        Action::RejectReasons(p.clone(), reasons.clone()),
    );
    assert!(matches!(&state.overlay, Overlay::Picker(p) if p.items.len() == 3));
    assert!(
        key(&mut state, '1').is_empty(),
        "nothing is sent on choosing"
    );
    assert!(state.previewing());
    assert!(key(&mut state, 'n').is_empty());
    assert!(state.held_reject.is_none() && !state.previewing());
    // y sends the reason as the reject's comment.
    let out = key(&mut state, 'r');
    let [Request::RejectReasons(p)] = out.as_slice() else {
        panic!("{out:?}");
    };
    update(
        &mut state,
        Action::RejectReasons(p.clone(), reasons.clone()),
    );
    key(&mut state, '1');
    let out = key(&mut state, 'y');
    assert!(
        matches!(out.as_slice(), [Request::Moderate(p, moderation::Action::Reject, Some(c))]
            if p.post.request_id == 7 && c == "Not here.\n"),
        "{out:?}"
    );
    // A template that cannot be used says why, and sends nothing.
    let out = key(&mut state, 'r');
    let [Request::RejectReasons(p)] = out.as_slice() else {
        panic!("{out:?}");
    };
    update(&mut state, Action::RejectReasons(p.clone(), reasons));
    assert!(key(&mut state, '2').is_empty());
    assert!(state.status.as_ref().unwrap().error);
    assert!(state.held_reject.is_none());
}

/// `r`, the worker's reasons, then the pick `n`: the preview of that reason.
fn choose_reason(state: &mut State, reasons: Vec<reject_reasons::Reason>, n: char) {
    let out = key(state, 'r');
    let [Request::RejectReasons(p)] = out.as_slice() else {
        panic!("{out:?}");
    };
    update(state, Action::RejectReasons(p.clone(), reasons));
    key(state, n);
}

#[test]
fn an_editor_that_fails_on_the_reason_says_what_became_of_the_reject() {
    let mut state = held_desk(vec![post(7, Class::Valid, Outcome::Ham)]);
    let reasons = vec![reject_reasons::Reason {
        name: "off-topic".into(),
        text: Ok("Not here.\n".into()),
    }];
    choose_reason(&mut state, reasons, '1');
    let out = key(&mut state, 'e');
    assert!(
        matches!(out.as_slice(), [Request::EditRejectReason(_)]),
        "{out:?}"
    );
    // What the UI loop hands back when the editor exits non-zero (`reply::edit`).
    let failed = Action::ReplyEdited(Err("the editor \"false\" exited with exit status: 1".into()));
    update(&mut state, edited(failed));
    let status = state.status.as_ref().expect("a status line");
    assert!(status.error);
    assert_eq!(
        status.text,
        "the editor \"false\" exited with exit status: 1; nothing was sent: the reason is as it was"
    );
    assert!(state.previewing(), "the preview is back with the reason");
}

/// Posts handled elsewhere above the cursor (another moderator, a sweep) shift the queue: the
/// cursor stays on the post it was on, so `s` pressed as the new queue arrives discards the
/// spam the moderator aimed at, never the report that slid under the old index.
#[test]
fn the_cursor_follows_its_post_when_the_queue_is_fetched_again() {
    let mut state = held_desk(vec![
        post(1, Class::Spam, Outcome::Spam),
        post(2, Class::Valid, Outcome::Ham),
        post(3, Class::Spam, Outcome::Spam),
        post(4, Class::Valid, Outcome::Ham),
        post(5, Class::Valid, Outcome::Ham),
    ]);
    key(&mut state, 'j');
    key(&mut state, 'j');
    assert_eq!(state.held_cursor, 2, "on post 3");
    let again = vec![
        post(2, Class::Valid, Outcome::Ham),
        post(3, Class::Spam, Outcome::Spam),
        post(4, Class::Valid, Outcome::Ham),
        post(5, Class::Valid, Outcome::Ham),
    ];
    update(&mut state, Action::HeldLoaded(Ok(again), Vec::new()));
    let out = key(&mut state, 's');
    let [Request::Moderate(seen, moderation::Action::Discard, None)] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(seen.post.request_id, 3, "the spam aimed at, not report 4");

    // Its own post gone (discarded), the cursor goes to the next one still held.
    let gone = vec![
        post(2, Class::Valid, Outcome::Ham),
        post(5, Class::Valid, Outcome::Ham),
    ];
    update(&mut state, Action::HeldLoaded(Ok(gone), Vec::new()));
    assert_eq!(
        state.held_cursor, 1,
        "on post 5, the first after 3 still held"
    );
}
