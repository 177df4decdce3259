//! Snapshot tests: each view drawn into a `TestBackend` from the demo store at a fixed "now".
//! The snapshots are what a triager sees; the assertions beside them name what matters.

mod tui_support;

use crossterm::event::KeyCode;
use ratatui::style::Color;
use tui_support::Desk;

#[test]
fn queue_view() {
    let desk = Desk::demo();
    let screen = desk.screen();
    insta::assert_snapshot!(screen);
    // Overdue reports are marked, and the unsure verdict stands out in reverse yellow.
    assert!(screen.contains("late"));
    let t = desk.terminal(120, 32);
    let buf = t.backend().buffer();
    let unsure = (0..32)
        .flat_map(|y| (0..120).map(move |x| (x, y)))
        .find(|&(x, y)| {
            buf[(x, y)].symbol() == "u"
                && buf[(x + 1, y)].symbol() == "n"
                && buf[(x + 2, y)].symbol() == "s"
        })
        .expect("an unsure verdict is on screen");
    assert_eq!(buf[unsure].bg, Color::Yellow);
}

#[test]
fn report_view_shows_thread_notes_and_replies_apart() {
    let mut desk = Desk::demo();
    // The tarfile report (#1) is the oldest valid one: last before the suggested spam.
    desk.key(KeyCode::Char('/'));
    desk.keys("tarfile");
    desk.key(KeyCode::Enter);
    desk.key(KeyCode::Enter);
    let screen = desk.screen();
    insta::assert_snapshot!(screen);
    assert!(screen.contains("▶ reporter"));
    assert!(screen.contains("poc.py"), "the attachment is listed");
    // The report opens on the mail: the reporter's first lines show, the reasons are folded.
    assert!(screen.contains("Hello PSRT"), "{screen}");
    assert!(screen.contains("1 reason, w shows"), "{screen}");
    // / finds text in the report and scrolls to it.
    desk.key(KeyCode::Char('/'));
    desk.keys("team note");
    desk.key(KeyCode::Enter);
    let later = desk.screen();
    insta::assert_snapshot!("report_view_scrolled", later);
    assert!(later.contains("✎ team note"));
    assert!(later.contains("◀ our reply"));
    // G stops with the last line of the audit log at the bottom: no blank screen.
    desk.key(KeyCode::Char('G'));
    let end = desk.screen();
    let rows: Vec<&str> = end.lines().collect();
    let last_text = rows[rows.len() - 3];
    assert!(!last_text.trim().is_empty(), "blank bottom row:\n{end}");
    assert!(
        end.contains("Audit log") || last_text.contains("20"),
        "{end}"
    );
    let at_end = desk.state.report_scroll;
    desk.key(KeyCode::Char('j'));
    assert_eq!(
        desk.state.report_scroll, at_end,
        "j past the end does nothing"
    );
    desk.key(KeyCode::Char('k'));
    assert_eq!(desk.state.report_scroll, at_end - 1, "k answers at once");
}

#[test]
fn stats_view() {
    let mut desk = Desk::demo();
    desk.keys("s"); // one report marked spam: a response-free close
    desk.key(KeyCode::Char('T'));
    let screen = desk.screen();
    insta::assert_snapshot!(screen);
    assert!(screen.contains("Weekly intake"));
    assert!(
        screen.contains("Overdue (13)"),
        "13 open reports are past a clock"
    );
}

#[test]
fn help_overlay_lists_the_keymap() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('?'));
    let screen = desk.screen();
    insta::assert_snapshot!(screen);
    for needle in [
        "mark spam",
        "undo the last action",
        "change state",
        "select / unselect",
    ] {
        assert!(screen.contains(needle), "{needle}");
    }
    desk.key(KeyCode::Esc);
    assert!(!desk.screen().contains("undo the last action"));
}

#[test]
fn member_picker() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Char('a'));
    let screen = desk.screen();
    insta::assert_snapshot!(screen);
    assert!(screen.contains("Ada Lovelace <ada@demo.example>"));
    // The title names the report the choice changes: the one under the cursor.
    assert!(screen.contains("Assign #4 to"), "{screen}");
}

#[test]
fn hostile_mail_is_drawn_inert() {
    let mut desk = Desk::demo();
    desk.key(KeyCode::Tab); // Suspected spam
    desk.key(KeyCode::Char('/'));
    desk.keys("clipboard");
    desk.key(KeyCode::Enter);
    desk.key(KeyCode::Enter);
    let screen = desk.screen();
    insta::assert_snapshot!(screen);
    assert!(
        !screen.chars().any(|c| c.is_control() && c != '\n'),
        "no control character reaches the terminal"
    );
    assert!(
        !screen.contains('\u{202e}'),
        "no bidi override reaches the terminal"
    );
    assert!(
        screen.contains("␛]52;"),
        "the OSC 52 attempt is visible, not executed"
    );
}
