//! Key-event tests: a triager's keystrokes drive the desk, and the store shows the result.

mod tui_support;

use crossterm::event::KeyCode;
use secdesk::core::triage;
use secdesk::tui::app::{Overlay, Screen};
use tui_support::{now, Desk};

#[test]
fn needs_triage_opens_first_and_suspected_spam_has_a_queue_of_its_own() {
    let mut desk = Desk::demo();
    let ids = desk.queue_ids();
    assert_eq!(desk.state.queue.page.total, 9, "{ids:?}");
    assert!(ids.iter().all(|id| *id < 10), "no suspected spam: {ids:?}");
    assert_eq!(ids[0], 4, "the newest report leads: {ids:?}");
    // The tabs say how much work waits where.
    assert!(
        desk.screen().contains("Suspected spam 5"),
        "{}",
        desk.screen()
    );
    desk.key(KeyCode::Tab);
    assert!(desk.screen().contains("Suspected spam"));
    let mut spam = desk.queue_ids();
    spam.sort();
    assert_eq!(spam, vec![10, 11, 12, 13, 14]);
}

#[test]
fn a_selection_is_marked_spam_in_one_key_and_undone_in_another() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Tab); // Suspected spam
    desk.key(KeyCode::Char('G'));
    // The cursor is on the last report; select it and the one above.
    let last = desk.state.queue.current().unwrap().summary.id;
    desk.key(KeyCode::Char('x'));
    desk.key(KeyCode::Char('k'));
    desk.key(KeyCode::Char('k'));
    let above = desk.state.queue.current().unwrap().summary.id;
    desk.key(KeyCode::Char('x'));
    assert_eq!(desk.state.selection.len(), 2);
    desk.key(KeyCode::Char('s'));
    assert!(matches!(desk.state.overlay, Overlay::None), "no question");
    for id in [last, above] {
        assert_eq!(desk.report_field(id, "state").as_deref(), Some("spam"));
        assert_eq!(desk.report_field(id, "class").as_deref(), Some("spam"));
    }
    assert!(desk.status().contains("marked spam"), "{}", desk.status());
    assert!(desk.state.selection.is_empty());
    assert_eq!(desk.state.queue.page.total, 3, "both left Suspected spam");

    desk.key(KeyCode::Char('u'));
    for id in [last, above] {
        assert_eq!(desk.report_field(id, "state").as_deref(), Some("new"));
    }
    assert!(desk.status().starts_with("Undone"), "{}", desk.status());
    assert_eq!(desk.state.queue.page.total, 5);
}

fn spam_count(desk: &Desk) -> i64 {
    desk.store
        .conn()
        .query_row(
            "SELECT count(*) FROM reports WHERE state = 'spam'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn the_spam_sweep_confirms_exactly_the_suspected_spam() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Tab); // Suspected spam
    desk.key(KeyCode::Char('X'));
    assert_eq!(desk.state.selection.len(), 5);
    desk.key(KeyCode::Char('s'));
    assert!(matches!(desk.state.overlay, Overlay::None), "no question");
    assert_eq!(spam_count(&desk), 5);
    for id in 1..=9 {
        assert_eq!(desk.report_field(id, "state").as_deref(), Some("new"));
    }
    assert!(desk.status().contains("5 reports"), "{}", desk.status());
}

/// Another desk's change to report `id`, made through the store, then the queue read again
/// (Tab there and back) so this desk sees it.
fn changed_elsewhere(desk: &mut Desk, change: impl FnOnce(&mut secdesk::core::store::Store)) {
    let mut other = secdesk::core::store::Store::open(desk.store.path()).unwrap();
    change(&mut other);
    desk.key(KeyCode::Tab);
    desk.key(KeyCode::BackTab);
}

/// Moves the cursor onto report `id` (at most 20 rows down from the top).
fn cursor_to(desk: &mut Desk, id: i64) {
    desk.key(KeyCode::Char('g'));
    for _ in 0..20 {
        if desk.current() == id {
            return;
        }
        desk.key(KeyCode::Char('j'));
    }
    panic!("report #{id} is not in the queue");
}

/// The sweep closed a report another member had taken (a triager working on it) with no
/// question: the moderator clearing the screen could not see the coordinator at 80 columns.
/// Now the question counts it, and n leaves it open.
#[test]
fn the_spam_sweep_asks_before_closing_a_report_another_member_took() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Tab); // Suspected spam
    let id = desk.state.queue.current().unwrap().summary.id;
    desk.key(KeyCode::BackTab);
    changed_elsewhere(&mut desk, |other| {
        let grace = secdesk::core::triage::Request::new("grace@demo.example");
        secdesk::core::triage::take(other, &grace, id).unwrap();
    });
    desk.key(KeyCode::Tab); // Suspected spam, read again
    desk.key(KeyCode::Char('X'));
    desk.key(KeyCode::Char('s'));
    let Overlay::Confirm(c) = &desk.state.overlay else {
        panic!("a report another member took asks first")
    };
    assert_eq!(c.question, "mark 5 as spam: 1 taken by grace? y/N");
    desk.key(KeyCode::Char('n'));
    assert_eq!(spam_count(&desk), 0, "n changes nothing");
}

/// A single s on a report a person confirmed valid closed it with no question, though the
/// same verdict over a selection asks: it asks now, and n leaves it as it was.
#[test]
fn a_single_verdict_against_a_confirmed_class_asks_first() {
    let mut desk = Desk::demo();
    let id = desk.current();
    changed_elsewhere(&mut desk, |other| {
        let ada = secdesk::core::triage::Request::new("ada@demo.example");
        secdesk::core::triage::mark(other, &ada, id, secdesk::core::model::Class::Valid, None)
            .unwrap();
    });
    // Confirmed, it left Needs triage: the All tab shows it.
    for _ in 0..10 {
        if desk.state.tab == secdesk::tui::app::Tab::All {
            break;
        }
        desk.key(KeyCode::Tab);
    }
    cursor_to(&mut desk, id);
    desk.key(KeyCode::Char('s'));
    let Overlay::Confirm(c) = &desk.state.overlay else {
        panic!("s on a confirmed valid report asks first")
    };
    assert_eq!(c.question, "mark 1 as spam: 1 confirmed valid? y/N");
    desk.key(KeyCode::Char('n'));
    assert_eq!(desk.report_field(id, "class").as_deref(), Some("valid"));
    // A report only suggested as something else is the triager's call: no question.
    let next = (1..=9).find(|&r| r != id).unwrap();
    cursor_to(&mut desk, next);
    desk.key(KeyCode::Char('s'));
    assert!(matches!(desk.state.overlay, Overlay::None), "no question");
    assert_eq!(desk.report_field(next, "state").as_deref(), Some("spam"));
}

/// After u the cursor kept its place while the undone reports came back above it, so it
/// sat on an unrelated report and the next key acted on that one. It goes onto the report
/// brought back now.
#[test]
fn undo_puts_the_cursor_on_the_report_it_brought_back() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('j'));
    desk.key(KeyCode::Char('j'));
    let first = desk.current();
    desk.key(KeyCode::Char('v'));
    desk.key(KeyCode::Char('j'));
    let second = desk.current();
    desk.key(KeyCode::Char('v'));
    desk.key(KeyCode::Char('u'));
    assert_eq!(desk.current(), second, "{}", desk.status());
    desk.key(KeyCode::Char('u'));
    assert_eq!(desk.current(), first, "{}", desk.status());
}

/// Tab dropped the selection without a word, and the status line still said "4 selected":
/// the next s acted on the cursor's report only. It says the selection was cleared now.
#[test]
fn a_new_queue_says_the_selection_was_cleared() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('X'));
    let selected = desk.state.selection.len();
    assert!(selected > 1);
    desk.key(KeyCode::Tab);
    assert!(desk.state.selection.is_empty());
    assert!(
        desk.status()
            .contains(&format!("Selection cleared ({selected} unselected)")),
        "{}",
        desk.status()
    );
}

#[test]
fn a_bulk_verdict_over_other_suggestions_asks_first_and_n_changes_nothing() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('X'));
    assert_eq!(desk.state.selection.len(), 9);
    desk.key(KeyCode::Char('s'));
    let Overlay::Confirm(c) = &desk.state.overlay else {
        panic!("s over valid reports asks first")
    };
    assert_eq!(
        c.question,
        "mark 9 as spam: 5 suggested invalid, 3 suggested valid, 1 unsure? y/N"
    );
    assert!(desk.screen().contains("mark 9 as spam"));
    desk.key(KeyCode::Char('n'));
    assert_eq!(spam_count(&desk), 0, "n changes nothing");
    assert_eq!(desk.state.selection.len(), 9, "the selection stays");
    // Asked again, y does it, and u takes it all back.
    desk.key(KeyCode::Char('s'));
    desk.key(KeyCode::Char('y'));
    assert_eq!(spam_count(&desk), 9);
    desk.key(KeyCode::Char('u'));
    assert_eq!(spam_count(&desk), 0);
}

#[test]
fn invalid_asks_for_the_reason_and_records_it() {
    let mut desk = Desk::demo();
    let id = desk.state.queue.current().unwrap().summary.id;
    desk.key(KeyCode::Char('i'));
    assert!(matches!(desk.state.overlay, Overlay::Picker(_)));
    desk.key(KeyCode::Char('j')); // third-party
    desk.key(KeyCode::Enter);
    assert_eq!(desk.report_field(id, "state").as_deref(), Some("invalid"));
    assert_eq!(
        desk.report_field(id, "invalid_reason").as_deref(),
        Some("third-party")
    );
    assert!(desk.status().contains("third party"), "{}", desk.status());
}

#[test]
fn assign_take_state_and_note_from_the_report_view() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Enter);
    assert_eq!(desk.state.screen, Screen::Report);
    let id = desk.state.report.as_ref().unwrap().id();

    desk.key(KeyCode::Char('a'));
    desk.keys("ada"); // the picker narrows as you type
    desk.key(KeyCode::Enter);
    assert_eq!(
        desk.report_field(id, "coordinator").as_deref(),
        Some("ada@demo.example")
    );

    // Ada has it: taking it over asks first.
    desk.key(KeyCode::Char('t'));
    desk.key(KeyCode::Char('y'));
    assert_eq!(
        desk.report_field(id, "coordinator").as_deref(),
        Some("you@demo.example")
    );

    // S offers only what the lifecycle allows from `new`; the first is acknowledged.
    desk.key(KeyCode::Char('S'));
    let Overlay::Picker(p) = &desk.state.overlay else {
        panic!("S opens a picker")
    };
    assert_eq!(p.items[0].0, "acknowledged");
    assert!(!p.items.iter().any(|(l, _)| l == "new" || l == "fixing"));
    desk.key(KeyCode::Enter);
    assert_eq!(
        desk.report_field(id, "state").as_deref(),
        Some("acknowledged")
    );

    desk.key(KeyCode::Char('c'));
    desk.keys("asked upstream");
    desk.key(KeyCode::Enter);
    let shown = desk.state.report.as_ref().unwrap();
    assert!(
        shown.thread.iter().any(|t| matches!(t,
            secdesk::tui::view_model::ThreadItem::Note(n) if n.text == "asked upstream")),
        "the note shows in the thread"
    );
    assert!(desk.status().contains("noted"), "{}", desk.status());

    // d picks the original by subject: the tarfile report is #1.
    desk.key(KeyCode::Char('d'));
    desk.keys("tarfile");
    desk.key(KeyCode::Enter);
    assert_eq!(desk.report_field(id, "state").as_deref(), Some("duplicate"));
    let of: i64 = desk
        .store
        .conn()
        .query_row(
            "SELECT duplicate_of FROM reports WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(of, 1);
    assert!(
        desk.status().contains("duplicate of #1"),
        "{}",
        desk.status()
    );
}

#[test]
fn a_change_from_a_stale_view_is_refused_visibly() {
    let mut desk = Desk::demo();
    let id = desk.state.queue.current().unwrap().summary.id;
    // Another desk takes the report after this one loaded the queue.
    let mut other = secdesk::core::store::Store::open(desk.store.path()).unwrap();
    triage::take(
        &mut other,
        &triage::Request::new("grace@demo.example").at(now()),
        id,
    )
    .unwrap();
    desk.key(KeyCode::Char('s'));
    assert_eq!(desk.report_field(id, "state").as_deref(), Some("new"));
    let status = desk.state.status.clone().unwrap();
    assert!(status.error, "a refusal is shown as an error");
    assert!(
        status.text.contains("grace@demo.example"),
        "{}",
        status.text
    );
    assert!(
        status.text.contains("look at it as it is now"),
        "{}",
        status.text
    );
}

#[test]
fn search_filters_the_queue_as_typed_and_esc_clears_it() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('/'));
    desk.keys("zipfile");
    assert_eq!(desk.queue_ids(), vec![3]);
    desk.key(KeyCode::Enter);
    assert!(desk.screen().contains("search: zipfile"));
    desk.key(KeyCode::Esc);
    assert_eq!(desk.state.queue.page.total, 9);
    assert!(!desk.state.quit, "Esc clears the search");
    desk.key(KeyCode::Esc);
    assert!(!desk.state.quit, "Esc never quits");
}

#[test]
fn tabs_sorting_reply_and_quit() {
    // A config of one's own without [smtp] (the demo's writes a reply and sends nothing).
    let mut config = secdesk::cli::demo::demo_config().unwrap();
    config.demo = false;
    let mut desk = Desk::demo_with(config);
    desk.key(KeyCode::Char('s'));
    desk.key(KeyCode::Tab); // Suspected spam
    desk.key(KeyCode::Tab); // Mine
    desk.key(KeyCode::Tab); // Unassigned
    desk.key(KeyCode::Tab); // Spam quarantine
    assert_eq!(desk.queue_ids(), vec![4]);
    // `r` offers the templates; without [smtp] the desk says so before any editing.
    desk.key(KeyCode::Char('r'));
    let screen = desk.screen();
    for name in ["blank (no template)", "acknowledge", "needs-more-info"] {
        assert!(screen.contains(name), "{name} in\n{screen}");
    }
    desk.key(KeyCode::Enter);
    assert!(
        desk.status().contains("no [smtp] section"),
        "{}",
        desk.status()
    );
    assert!(desk.state.reply.is_none());
    for _ in 0..4 {
        desk.key(KeyCode::BackTab);
    }
    desk.key(KeyCode::Char('o'));
    // By deadline: the most overdue (oldest new report) first.
    assert_eq!(desk.queue_ids()[0], 5, "{:?}", desk.queue_ids());
    desk.key(KeyCode::Char('q'));
    assert!(desk.state.quit);
}

#[test]
fn after_v_the_cursor_moves_to_the_next_report_and_the_status_names_both() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('j'));
    let acted = desk.current();
    let next = desk.queue_ids()[2];
    desk.key(KeyCode::Char('v'));
    assert_eq!(
        desk.report_field(acted, "state").as_deref(),
        Some("acknowledged")
    );
    assert_eq!(desk.current(), next, "the cursor is on the report after it");
    let status = desk.status();
    assert!(
        status.contains(&format!("#{acted} marked valid"))
            && status.contains(&format!("now on #{next}")),
        "{status}"
    );
    // The row it jumped to stands out until the next key.
    assert_eq!(desk.state.landed, Some(next));
    let t = desk.terminal(120, 32);
    let buf = t.backend().buffer();
    let row = (2..32)
        .find(|&y| {
            (0..120)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .contains(&format!(" {next} "))
        })
        .unwrap();
    assert_eq!(buf[(10, row)].fg, ratatui::style::Color::Yellow);
    // The next key acts on the report the status line names.
    desk.key(KeyCode::Char('t'));
    assert_eq!(desk.state.landed, None);
    assert_eq!(
        desk.report_field(next, "coordinator").as_deref(),
        Some("you@demo.example")
    );
    assert_eq!(
        desk.current(),
        next,
        "take leaves it in Needs triage: the cursor stays"
    );
}

#[test]
fn esc_never_quits_and_q_asks_first_over_a_selection() {
    let mut desk = Desk::demo();
    for _ in 0..3 {
        desk.key(KeyCode::Esc);
    }
    assert!(!desk.state.quit, "Esc never quits");
    assert!(desk.status().contains("q quits"), "{}", desk.status());
    desk.key(KeyCode::Char('x'));
    desk.key(KeyCode::Char('q'));
    assert!(!desk.state.quit, "q over a selection asks first");
    assert!(matches!(desk.state.overlay, Overlay::Confirm(_)));
    desk.key(KeyCode::Esc);
    assert!(!desk.state.quit, "Esc answers no");
    assert_eq!(desk.state.selection.len(), 1);
    desk.key(KeyCode::Esc);
    assert!(desk.state.selection.is_empty(), "Esc clears the selection");
    assert!(!desk.state.quit);
    desk.key(KeyCode::Char('x'));
    desk.key(KeyCode::Char('q'));
    desk.key(KeyCode::Char('y'));
    assert!(desk.state.quit);
}

#[test]
fn vim_motions_counts_and_half_pages() {
    let mut desk = Desk::demo();
    desk.resize(80, 10); // five rows on screen
    desk.keys("5j");
    assert_eq!(desk.state.queue.cursor, 5);
    desk.keys("2k");
    assert_eq!(desk.state.queue.cursor, 3);
    desk.ctrl('u');
    assert_eq!(desk.state.queue.cursor, 1);
    desk.ctrl('d');
    assert_eq!(desk.state.queue.cursor, 3);
    desk.ctrl('f');
    assert_eq!(desk.state.queue.cursor, 8);
    desk.ctrl('b');
    assert_eq!(desk.state.queue.cursor, 3);
    desk.key(KeyCode::Char(' '));
    assert_eq!(desk.state.queue.cursor, 8);
    desk.keys("3G");
    assert_eq!(desk.state.queue.cursor, 2);
    // n/N step through a search's matches.
    desk.key(KeyCode::Char('n'));
    assert!(desk.status().contains("/ searches"), "{}", desk.status());
}

#[test]
fn prompts_edit_the_readline_way() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('c'));
    desk.keys("first words");
    desk.ctrl('w');
    desk.keys("second");
    desk.ctrl('a');
    desk.keys("> ");
    desk.ctrl('e');
    desk.keys("!");
    let Overlay::Input(input) = &desk.state.overlay else {
        panic!("c opens the note prompt")
    };
    assert_eq!(input.text(), "> first second!");
    desk.ctrl('u');
    let Overlay::Input(input) = &desk.state.overlay else {
        panic!("still open")
    };
    assert_eq!(input.text(), "");
    desk.key(KeyCode::Esc);
    assert!(matches!(desk.state.overlay, Overlay::None));
    assert!(!desk.state.quit);
}

#[test]
fn invalid_takes_a_reason_in_the_triagers_own_words() {
    let mut desk = Desk::demo();
    let id = desk.current();
    desk.key(KeyCode::Char('i'));
    desk.key(KeyCode::Char('G')); // nothing: pickers move with j/k and digits
    desk.keys("6"); // "other: type the reason…"
    desk.keys("a feature request");
    desk.key(KeyCode::Enter);
    assert_eq!(desk.report_field(id, "state").as_deref(), Some("invalid"));
    assert_eq!(
        desk.report_field(id, "invalid_reason").as_deref(),
        Some("other")
    );
    let note: String = desk
        .store
        .conn()
        .query_row("SELECT text FROM notes WHERE report_id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(note, "a feature request");
}

#[test]
fn search_in_a_report_marks_its_matches_and_n_steps_through_them() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Tab); // Suspected spam
    desk.key(KeyCode::Char('/'));
    desk.keys("clipboard");
    desk.key(KeyCode::Enter);
    desk.key(KeyCode::Enter);
    desk.key(KeyCode::Char('/'));
    desk.keys("the");
    desk.key(KeyCode::Enter);
    let first = desk.status();
    assert!(first.starts_with("match 1 of "), "{first}");
    let of: usize = first["match 1 of ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(of >= 3, "{first}");
    let at = desk.state.find_at;
    desk.key(KeyCode::Char('n'));
    assert!(desk.status().starts_with("match 2 of"), "{}", desk.status());
    assert_ne!(desk.state.find_at, at);
    desk.key(KeyCode::Char('N'));
    assert_eq!(desk.state.find_at, at);
    desk.key(KeyCode::Char('N'));
    assert!(desk.status().contains("wrapped round"), "{}", desk.status());
    // The current match is drawn reversed.
    let t = desk.terminal(80, 24);
    let buf = t.backend().buffer();
    let reversed = (0..24).any(|y| {
        (0..80).any(|x| {
            buf[(x, y)]
                .modifier
                .contains(ratatui::style::Modifier::REVERSED)
        })
    });
    assert!(reversed);
    desk.key(KeyCode::Char('/'));
    for _ in 0..3 {
        desk.key(KeyCode::Backspace);
    }
    desk.keys("no such words");
    desk.key(KeyCode::Enter);
    assert!(
        desk.status().contains("is not in this report"),
        "{}",
        desk.status()
    );
}

#[test]
fn esc_typed_fast_before_a_key_is_still_an_esc() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('x'));
    assert_eq!(desk.state.selection.len(), 1);
    // The terminal sends Esc then s, typed fast, as Alt-s.
    desk.act(secdesk::tui::action::Action::Key(
        crossterm::event::KeyEvent::new(KeyCode::Char('s'), crossterm::event::KeyModifiers::ALT),
    ));
    assert!(
        desk.state.selection.is_empty(),
        "the Esc cleared the selection"
    );
    let acted = desk.queue_ids().len();
    assert_eq!(
        acted,
        9 - 1,
        "then s marked the report under the cursor only"
    );
}

/// In the report picker a typed number linked that report whatever line was highlighted:
/// "#1", then Down onto #13, then Enter linked #1. The typed report is now the first line,
/// highlighted, and Enter links the line under the cursor.
#[test]
fn the_report_picker_links_the_highlighted_line() {
    let mut desk = Desk::demo();
    let id = desk.current();
    let dup_of = |desk: &Desk| -> Option<i64> {
        desk.store
            .conn()
            .query_row(
                "SELECT duplicate_of FROM reports WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    };
    desk.key(KeyCode::Char('d'));
    desk.keys("#1");
    let screen = desk.screen();
    let first = screen
        .lines()
        .skip_while(|l| !l.contains("> #1"))
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        first.contains("#1 tarfile"),
        "the typed report leads: {screen}"
    );
    desk.key(KeyCode::Down);
    let Some(secdesk::tui::overlay::Overlay::Picker(picker)) = Some(&desk.state.overlay) else {
        panic!("the picker is open")
    };
    let highlighted = picker.matching()[picker.cursor].0.clone();
    let want: i64 = highlighted
        .split_whitespace()
        .find_map(|w| w.strip_prefix('#'))
        .and_then(|n| n.parse().ok())
        .expect("a report line");
    assert_ne!(want, 1, "{highlighted}");
    desk.key(KeyCode::Enter);
    assert_eq!(
        dup_of(&desk),
        Some(want),
        "the highlighted line, {highlighted}"
    );
}

#[test]
fn an_unknown_report_is_named_without_a_cli_command() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('d'));
    desk.keys("999");
    desk.key(KeyCode::Enter);
    let status = desk.status();
    assert!(status.contains("no report #999"), "{status}");
    assert!(!status.contains("secdesk"), "{status}");
    let answer = desk
        .session
        .handle(now(), secdesk::tui::action::Request::Report(999));
    let secdesk::tui::action::Action::Failed(message) = answer else {
        panic!("a missing report is an error")
    };
    assert!(!message.contains("secdesk"), "{message}");
}

#[test]
fn answered_elsewhere_stops_the_acknowledge_clock_and_u_takes_it_back() {
    let mut desk = Desk::demo();
    let id = desk.current();
    let responded = |desk: &Desk| {
        secdesk::core::clocks::milestones(desk.store.conn(), Some(id)).unwrap()[&id].responded
    };
    desk.key(KeyCode::Char('v'));
    assert_eq!(responded(&desk), None, "v is not a response");
    desk.key(KeyCode::Char('u'));
    desk.key(KeyCode::Char('R'));
    assert!(desk.screen().contains("answered by"), "{}", desk.screen());
    desk.keys("1"); // phone
    assert!(
        desk.status().contains("answered by phone"),
        "{}",
        desk.status()
    );
    assert_eq!(responded(&desk), Some(now()));
    desk.key(KeyCode::Char('u'));
    assert_eq!(responded(&desk), None, "undone, the clock runs again");
}

/// Issue 11: a store error on the desk is the CLI's one line naming the store file, not
/// SQLite's code and text: here another program holds the write lock past the busy timeout.
#[test]
fn a_busy_store_is_one_status_line_naming_the_file() {
    let mut desk = Desk::demo();
    let path = desk.store.path().to_path_buf();
    let id = desk.current();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    desk.key(KeyCode::Char('s')); // waits out the busy timeout, then is refused
    other.execute_batch("ROLLBACK").unwrap();
    let status = desk.status();
    assert!(desk.state.status.as_ref().unwrap().error, "{status}");
    assert!(
        status.contains(&format!("the store {} is busy", path.display())),
        "{status}"
    );
    assert!(!status.contains("Error code"), "{status}");
    assert_eq!(desk.report_field(id, "state").as_deref(), Some("new"));
}

/// `a`, a name typed into the picker, Enter: the report under the cursor goes to them.
fn assign_to(desk: &mut Desk, name: &str) {
    desk.key(KeyCode::Char('a'));
    desk.keys(name);
    desk.key(KeyCode::Enter);
}

#[test]
fn u_takes_back_each_change_in_turn_not_only_the_last() {
    let mut desk = Desk::demo();
    let id = desk.current();
    assign_to(&mut desk, "grace");
    desk.key(KeyCode::Char('S'));
    desk.key(KeyCode::Enter); // acknowledged
    assert_eq!(
        desk.report_field(id, "state").as_deref(),
        Some("acknowledged")
    );
    assert_eq!(
        desk.report_field(id, "coordinator").as_deref(),
        Some("grace@demo.example")
    );

    desk.key(KeyCode::Char('u'));
    assert_eq!(desk.report_field(id, "state").as_deref(), Some("new"));
    // The second u undoes the assignment; it used to be refused as "changed by you since
    // you loaded it" (by the first undo) and then dropped, so it could never be undone.
    desk.key(KeyCode::Char('u'));
    assert!(
        desk.status().starts_with("Undone"),
        "the status says the assignment was undone: {}",
        desk.status()
    );
    assert!(
        desk.status().contains("assigned to grace"),
        "{}",
        desk.status()
    );
    assert_eq!(desk.report_field(id, "coordinator"), None);
    desk.key(KeyCode::Char('u'));
    assert_eq!(desk.status(), "Nothing to undo.");
}

#[test]
fn a_key_that_works_only_on_another_screen_says_where() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Enter);
    assert_eq!(desk.state.screen, Screen::Report);
    // The help lists T as stats; in the report view it used to do nothing, silently.
    desk.key(KeyCode::Char('T'));
    assert_eq!(desk.state.screen, Screen::Report, "nothing else happens");
    assert_eq!(
        desk.status(),
        "T: stats — works on the queue (q goes back to it), not here"
    );
    assert!(desk.screen().contains("T: stats — works on the queue"));
    // On the stats screen a triage key changes nothing and says where it works.
    desk.key(KeyCode::Char('q'));
    let id = desk.current();
    desk.key(KeyCode::Char('T'));
    assert_eq!(desk.state.screen, Screen::Stats);
    desk.key(KeyCode::Char('s'));
    assert!(
        desk.status().starts_with(
            "s: mark spam (a mixed selection asks) — works on the queue and in the report view"
        ),
        "{}",
        desk.status()
    );
    assert_eq!(desk.report_field(id, "state").as_deref(), Some("new"));
    // A key bound nowhere stays silent.
    desk.key(KeyCode::Char('Z'));
    assert!(
        desk.status().starts_with("s: mark spam"),
        "{}",
        desk.status()
    );
}

#[test]
fn an_undo_after_a_teammates_change_says_it_cannot_and_what_to_do() {
    let mut desk = Desk::demo();
    let id = desk.current();
    assign_to(&mut desk, "grace");
    // A teammate changes the report before u.
    triage::add_note(
        &mut desk.store,
        &triage::Request::new("bob@demo.example").at(now()),
        id,
        "on it",
    )
    .unwrap();
    desk.key(KeyCode::Char('u'));
    let status = desk.status();
    // It used to end "reload and retry", which an undo cannot do.
    assert!(
        status.starts_with(&format!(
            "cannot undo on #{id}: bob@demo.example changed it at"
        )),
        "{status}"
    );
    assert!(status.contains("change it back by hand"), "{status}");
    assert!(!status.contains("retry"), "{status}");
    assert!(status.ends_with("nothing older to undo"), "{status}");
    assert!(desk.state.status.as_ref().unwrap().error);
    assert_eq!(
        desk.report_field(id, "coordinator").as_deref(),
        Some("grace@demo.example"),
        "the teammate's report is left as it is"
    );
}

/// A refused undo leaves the stack: the status line says what the next `u` takes back, so
/// pressing `u` again "to retry" does not silently undo an older change on another report.
#[test]
fn a_refused_undo_says_what_the_next_u_would_take_back() {
    let mut desk = Desk::demo();
    let first = desk.current();
    assign_to(&mut desk, "grace");
    desk.key(KeyCode::Char('j'));
    let second = desk.current();
    assert_ne!(first, second);
    assign_to(&mut desk, "grace");
    triage::add_note(
        &mut desk.store,
        &triage::Request::new("bob@demo.example").at(now()),
        second,
        "on it",
    )
    .unwrap();
    desk.key(KeyCode::Char('u'));
    let status = desk.status();
    assert!(
        status.starts_with(&format!("cannot undo on #{second}")),
        "{status}"
    );
    assert!(
        status.ends_with(&format!(
            "the next u undoes: #{first} assigned to grace@demo.example"
        )),
        "{status}"
    );
    desk.key(KeyCode::Char('u'));
    assert_eq!(desk.report_field(first, "coordinator"), None);
    assert_eq!(
        desk.report_field(second, "coordinator").as_deref(),
        Some("grace@demo.example")
    );
}

/// `secdesk demo` has no mail server and made-up reporters: `r` writes a reply and shows its
/// preview all the same, and `y` says who it would have gone to and that nothing was sent
/// (it refused `r` with "add host, port and security to [smtp]" of a config one cannot edit).
#[test]
fn the_demo_writes_and_previews_a_reply_and_sends_nothing() {
    // The only test in this file that runs an editor: `true` keeps the template's text.
    std::env::set_var("VISUAL", "true");
    let mut desk = Desk::demo();
    let id = desk.current();
    desk.key(KeyCode::Char('r'));
    desk.key(KeyCode::Enter);
    let preview = desk.screen();
    assert!(desk.state.reply.is_some(), "{}\n{preview}", desk.status());
    assert!(
        preview.contains("y sends") && preview.contains("Sent to"),
        "{preview}"
    );
    desk.key(KeyCode::Char('y'));
    let status = desk.status();
    assert!(
        status.contains(&format!("reply to #{id} would now be saved"))
            && status.contains("nothing was sent"),
        "{status}"
    );
    assert!(desk.state.reply.is_none());
    let outbox: i64 = desk
        .store
        .conn()
        .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(outbox, 0, "nothing is queued");
}

/// The rows of the reply preview's box on screen, its borders left out.
fn preview_rows(screen: &str) -> String {
    screen
        .lines()
        .skip_while(|l| !l.contains("y sends"))
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// At 80x24 the acknowledgement's body ran past the preview's box: its signature and the
/// quoted report could not be reached, and nothing said they were there. The usual scroll
/// keys now move through it, the bottom border says where the box is in the message, and
/// none of them sends: `y` still does, as before.
#[test]
fn the_reply_preview_scrolls_to_its_last_line_and_says_there_is_more() {
    std::env::set_var("VISUAL", "true");
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Char('r'));
    desk.key(KeyCode::Char('j')); // acknowledge, after "blank"
    desk.key(KeyCode::Enter);
    let body = desk
        .state
        .reply
        .as_ref()
        .expect("a preview")
        .draft
        .body
        .clone();
    assert!(body.contains("simply reply to this message"), "{body}");
    let last = body.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    let last = last.trim().chars().take(40).collect::<String>();
    let signed = "Best regards,";

    let top = desk.screen();
    insta::assert_snapshot!("reply_preview_80x24", top);
    assert!(top.contains("↓ more: lines 1-"), "{top}");
    assert!(!preview_rows(&top).contains(&last), "{top}");

    // Every scroll key moves it on: none of them is ignored.
    for key in [
        KeyCode::Char('j'),
        KeyCode::Down,
        KeyCode::Char(' '),
        KeyCode::PageDown,
    ] {
        let before = preview_rows(&desk.screen());
        desk.key(key);
        assert_ne!(
            preview_rows(&desk.screen()),
            before,
            "{key:?} scrolled nothing"
        );
        desk.key(KeyCode::Char('g'));
    }
    desk.ctrl('d');
    assert!(
        desk.screen().contains("↓ more: lines "),
        "{}",
        desk.screen()
    );
    assert!(
        !desk.screen().contains("↓ more: lines 1-"),
        "{}",
        desk.screen()
    );

    desk.key(KeyCode::Char('G'));
    let end = desk.screen();
    assert!(preview_rows(&end).contains(&last), "{end}");
    assert!(end.contains("(end)"), "{end}");
    assert!(!end.contains("↓ more"), "{end}");
    // k goes back up, one line at a time, to the signature.
    while !preview_rows(&desk.screen()).contains(signed) {
        let before = preview_rows(&desk.screen());
        desk.key(KeyCode::Char('k'));
        assert_ne!(
            preview_rows(&desk.screen()),
            before,
            "k stopped short of the top"
        );
    }

    // Scrolling sent nothing: the preview is still open until y.
    assert!(desk.state.reply.as_ref().is_some_and(|r| r.previewing));
    desk.key(KeyCode::Char('y'));
    assert!(
        desk.status().contains("would now be saved"),
        "{}",
        desk.status()
    );

    // At 80x50 the quote was still cut: now it is whole, or the border says where the rest is.
    let mut tall = Desk::demo();
    tall.resize(80, 50);
    tall.key(KeyCode::Char('r'));
    tall.key(KeyCode::Char('j'));
    tall.key(KeyCode::Enter);
    tall.key(KeyCode::Char('G'));
    let screen = tall.screen();
    assert!(preview_rows(&screen).contains(&last), "{screen}");
}

/// New mail arriving while the desk is open (a sync, another desk's import) came in above
/// the cursor, and the highlight stayed on its row number, so it sat on another report; a
/// menu already open then acted on that one ("Move #10 to state" became "#13" by itself, and
/// `3` marked a report nobody had looked at as spam). The cursor stays on its report now.
#[test]
fn new_mail_above_the_cursor_leaves_it_on_its_report_and_an_open_menu_on_its_own() {
    use secdesk::core::ingest::{Ingestor, RawIncoming};
    let mut desk = Desk::demo();
    desk.keys("jjj");
    let looked_at = desk.current();
    desk.key(KeyCode::Char('S'));
    assert!(matches!(desk.state.overlay, Overlay::Picker(_)));
    let mail = |n: u32| {
        format!(
            "From: Finder {n} <finder{n}@research.example>\r\nTo: security@python.org\r\n\
             Subject: Path traversal in zipfile {n}\r\nMessage-ID: <new-{n}@research.example>\r\n\
             Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n\r\nThe extractor writes outside the target directory.\r\n"
        )
    };
    Ingestor::without_classifier()
        .ingest_batch(
            &mut desk.store,
            vec![RawIncoming::file(mail(1)), RawIncoming::file(mail(2))],
            None,
        )
        .unwrap();
    desk.act(secdesk::tui::action::Action::StoreChanged);
    assert_eq!(desk.current(), looked_at, "{}", desk.screen());
    // The menu opened for that report still acts on it: `1` is acknowledged.
    desk.key(KeyCode::Char('1'));
    assert!(
        desk.status()
            .contains(&format!("#{looked_at} moved to acknowledged")),
        "{}",
        desk.status()
    );
    assert_eq!(
        desk.report_field(looked_at, "state").as_deref(),
        Some("acknowledged")
    );
}

/// When the report a menu was opened for leaves the queue meanwhile (another desk closed
/// it), the menu closes and says so: its answer would have gone to the report after it.
#[test]
fn a_menu_for_a_report_that_left_the_queue_is_closed_with_a_word() {
    let mut desk = Desk::demo();
    desk.keys("jj");
    let gone = desk.current();
    desk.key(KeyCode::Char('S'));
    assert!(matches!(desk.state.overlay, Overlay::Picker(_)));
    desk.store
        .conn()
        .execute(
            "UPDATE reports SET state = 'spam', version = version + 1 WHERE id = ?1",
            [gone],
        )
        .unwrap();
    desk.act(secdesk::tui::action::Action::StoreChanged);
    assert!(matches!(desk.state.overlay, Overlay::None));
    assert!(
        desk.status()
            .contains(&format!("#{gone} left this queue meanwhile")),
        "{}",
        desk.status()
    );
    assert_ne!(desk.current(), gone);
}

/// `t` took a report another member had taken without a word (the audit log said only
/// `coordinator ada → you`), while a verdict on it asked. It asks now, and `n` keeps it
/// theirs.
#[test]
fn taking_a_report_another_member_took_asks_first() {
    let mut desk = Desk::demo();
    let id = desk.current();
    desk.key(KeyCode::Char('a'));
    desk.keys("ada");
    desk.key(KeyCode::Enter);
    let ada = desk
        .report_field(id, "coordinator")
        .expect("assigned to ada");
    assert!(ada.starts_with("ada@"), "{ada}");
    desk.key(KeyCode::Char('t'));
    let Overlay::Confirm(c) = &desk.state.overlay else {
        panic!("t on ada's report asks first: {}", desk.status())
    };
    assert_eq!(
        c.question,
        format!("#{id} is taken by ada: take it over? y/N")
    );
    desk.key(KeyCode::Char('n'));
    assert_eq!(desk.report_field(id, "coordinator"), Some(ada.clone()));
    desk.key(KeyCode::Char('t'));
    desk.key(KeyCode::Char('y'));
    assert_eq!(
        desk.report_field(id, "coordinator").as_deref(),
        Some(desk.state.me.email.as_str())
    );
    // One's own report is taken again without a question, and given away without one.
    desk.key(KeyCode::Char('t'));
    assert!(matches!(desk.state.overlay, Overlay::None));
    desk.key(KeyCode::Char('a'));
    desk.keys("ada");
    desk.key(KeyCode::Enter);
    assert!(
        matches!(desk.state.overlay, Overlay::None),
        "{}",
        desk.status()
    );
    assert_eq!(desk.report_field(id, "coordinator"), Some(ada));
    // Ada's, assigned to grace: asked.
    desk.key(KeyCode::Char('a'));
    desk.keys("grace");
    desk.key(KeyCode::Enter);
    let Overlay::Confirm(c) = &desk.state.overlay else {
        panic!("a on ada's report asks first: {}", desk.status())
    };
    assert!(
        c.question
            .starts_with(&format!("#{id} is taken by ada: assign it to ")),
        "{}",
        c.question
    );
}

/// `:q` quit at once over a selection, while `q` asks; it asks too now, and `:q!` does not.
#[test]
fn colon_q_over_a_selection_asks_as_q_does() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('x'));
    desk.keys(":q");
    desk.key(KeyCode::Enter);
    assert!(!desk.state.quit);
    let Overlay::Confirm(c) = &desk.state.overlay else {
        panic!(":q over a selection asks: {}", desk.status())
    };
    assert!(
        c.question.starts_with("quit with 1 selected"),
        "{}",
        c.question
    );
    desk.key(KeyCode::Char('n'));
    assert!(!desk.state.quit);
    desk.keys(":q!");
    desk.key(KeyCode::Enter);
    assert!(desk.state.quit);
}

/// A selection of two where another desk changed one meanwhile: the refusal comes first in
/// the status line (cut at 80 columns it was lost behind "#12 marked spam — u undoes"), and
/// the refused report leaves the selection (it stayed selected, maybe off screen, for the
/// next key).
#[test]
fn a_refusal_in_a_bulk_verdict_leads_the_status_line_and_leaves_the_selection() {
    let mut desk = Desk::demo();
    let first = desk.current();
    desk.key(KeyCode::Char('x'));
    let second = desk.current();
    desk.key(KeyCode::Char('x'));
    assert_eq!(desk.state.selection.len(), 2);
    let mut other = secdesk::core::store::Store::open(desk.store.path()).unwrap();
    triage::take(
        &mut other,
        &triage::Request::new("grace@demo.example").at(now()),
        first,
    )
    .unwrap();
    desk.key(KeyCode::Char('i'));
    // `i` over the selection: pick the first reason.
    desk.key(KeyCode::Enter);
    if let Overlay::Confirm(_) = &desk.state.overlay {
        desk.key(KeyCode::Char('y'));
    }
    let status = desk.state.status.clone().unwrap();
    assert!(status.error, "{}", status.text);
    assert!(
        status.text.starts_with(&format!("report #{first}")),
        "the refusal first: {}",
        status.text
    );
    assert!(
        status.text.contains(&format!("#{second}")),
        "{}",
        status.text
    );
    assert!(
        desk.state.selection.is_empty(),
        "{:?}",
        desk.state.selection
    );
}
