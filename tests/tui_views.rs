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
    // Overdue reports are marked, and the unsure verdict stands out in reverse yellow,
    // naming the likelier class before the confidence in it: never "unsure 55%", which
    // reads as "55% unsure".
    assert!(screen.contains("late"));
    assert!(screen.contains("valid??   55%"), "{screen}");
    assert!(!screen.contains("unsure"), "{screen}");
    let t = desk.terminal(120, 32);
    let buf = t.backend().buffer();
    let unsure = (0..32)
        .flat_map(|y| (0..120).map(move |x| (x, y)))
        .find(|&(x, y)| buf[(x, y)].symbol() == "?" && buf[(x + 1, y)].symbol() == "?")
        .expect("an unsure verdict is on screen");
    assert_eq!(buf[unsure].bg, Color::Yellow);
}

#[test]
fn report_view_shows_thread_notes_and_replies_apart() {
    let mut desk = Desk::demo();
    // The tarfile report (#1) is the oldest valid one: last before the suggested spam.
    desk.open_found("tarfile");
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

/// `[stats] time_zone` cuts the desk's weeks and months too, and the chart names the zone,
/// whole, at 80 columns.
#[test]
fn the_intake_chart_names_the_teams_zone() {
    let mut config = secdesk::cli::demo::demo_config().unwrap();
    config
        .stats
        .set_time_zone(Some("America/Argentina/Buenos_Aires"))
        .unwrap();
    let mut desk = Desk::demo_with(config);
    desk.key(KeyCode::Char('T'));
    // Wide, the whole title; at 80 columns the classes make room for the zone.
    assert!(
        desk.screen().contains(
            " Weekly intake by class (spam, invalid, valid), America/Argentina/Buenos_Aires weeks"
        ),
        "{}",
        desk.screen()
    );
    desk.resize(80, 24);
    let screen = desk.screen();
    assert!(
        screen.contains(" Weekly intake, America/Argentina/Buenos_Aires weeks · m: monthly "),
        "{screen}"
    );
    desk.key(KeyCode::Char('m'));
    assert!(
        desk.screen()
            .contains("America/Argentina/Buenos_Aires months"),
        "{}",
        desk.screen()
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

#[test]
fn a_bad_signature_is_a_banner_and_each_pgp_message_says_what_it_was() {
    let mut desk = Desk::demo();
    // What ingest stores for an encrypted message with a good signature, and for a signed
    // one whose signature does not verify (the PGP tests make both with a real gpg).
    let conn = desk.store.conn();
    conn.execute(
        "UPDATE messages SET pgp = '{\"encrypted\":true,\"signature\":\"good\",\"signer\":\"ABCD1234ABCD1234\"}'
         WHERE report_id = 1 AND direction = 'in'",
        [],
    )
    .unwrap();
    desk.open_found("tarfile");
    let screen = desk.screen();
    assert!(
        screen.contains("pgp: encrypted, good signature by ABCD1234ABCD1234"),
        "{screen}"
    );
    assert!(!screen.contains("BAD PGP SIGNATURE"), "{screen}");
    desk.store
        .conn()
        .execute(
            "UPDATE messages SET pgp = '{\"encrypted\":false,\"signature\":\"bad\",\"signer\":null}'
             WHERE report_id = 1 AND direction = 'in'",
            [],
        )
        .unwrap();
    desk.act(secdesk::tui::action::Action::StoreChanged);
    // Scrolled to the end, the title still says it, white on red.
    desk.key(KeyCode::Char('G'));
    let t = desk.terminal(120, 32);
    let buf = t.backend().buffer();
    let top: String = (0..120).map(|x| buf[(x, 0)].symbol()).collect();
    assert!(top.contains("BAD PGP SIGNATURE"), "{top}");
    let at = top.find("BAD").unwrap();
    let x = top[..at].chars().count() as u16;
    assert_eq!(buf[(x, 0)].bg, Color::Red);
    desk.key(KeyCode::Char('g'));
    let screen = desk.screen();
    assert!(
        screen.contains("!!! BAD PGP SIGNATURE on a message below"),
        "{screen}"
    );
    assert!(
        screen.contains("pgp: not encrypted, BAD SIGNATURE"),
        "{screen}"
    );
}

/// Issue 12: the report view names the classifier's similar earlier reports, and `d` offers
/// them first, best first, before the newest reports.
#[test]
fn similar_reports_are_shown_and_offered_first_by_d() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = secdesk::core::store::Store::open(&dir.path().join("desk.db")).unwrap();
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/duplicates");
    // The tarfile report, two unrelated ones, then the tarfile bug again in other words.
    let batch = ["01-a", "02-a", "03-a", "01-b"]
        .iter()
        .map(|n| {
            let raw = std::fs::read(fixtures.join(format!("{n}.eml"))).unwrap();
            secdesk::core::ingest::RawIncoming::file(raw)
        })
        .collect();
    let ingest = secdesk::core::ingest::Ingestor::from_store(&mut store, None).unwrap();
    ingest.ingest_batch(&mut store, batch, None).unwrap();
    let config = secdesk::cli::demo::demo_config().unwrap();
    let mut desk = Desk::open(dir, store, config);
    desk.key(KeyCode::Char('/'));
    desk.keys("symlink in tarfile");
    desk.key(KeyCode::Enter);
    desk.key(KeyCode::Enter);
    let id = desk.state.report_id.unwrap();
    let report = desk.screen();
    let similar = report
        .lines()
        .find(|l| l.starts_with("Similar"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(similar.contains("#1 ≈"), "{similar}");
    assert!(similar.contains("d offers them first"), "{similar}");
    desk.key(KeyCode::Char('d'));
    let picker = desk.screen();
    let items: Vec<&str> = picker.lines().filter(|l| l.contains("(new)")).collect();
    assert!(
        items[0].contains("│ ≈") && items[0].contains("% #1 tarfile extractall"),
        "the similar report first, with its score:\n{picker}"
    );
    assert!(items[1..].iter().all(|l| !l.contains('≈')), "{picker}");
    // Enter takes the first: marked a duplicate of the similar report.
    desk.key(KeyCode::Enter);
    assert_eq!(
        desk.report_field(id, "CAST(duplicate_of AS TEXT)")
            .as_deref(),
        Some("1")
    );
}

/// Issue 13: "X is replying (4 min)" on the queue's row and in the report view.
#[test]
fn another_member_replying_shows_on_the_row_and_in_the_report_view() {
    use secdesk::core::team::replying;
    let mut desk = Desk::demo();
    let id = desk.current();
    let other = desk
        .config
        .members()
        .into_iter()
        .find(|m| m.email != desk.config.identity.email)
        .expect("the demo team has another member")
        .clone();
    let started = tui_support::now() - chrono::Duration::minutes(4);
    replying::start(&mut desk.store, &other.email, id, started).unwrap();
    desk.act(secdesk::tui::action::Action::StoreChanged);
    let line = format!("{} is replying (4 min)", other.name);
    desk.resize(160, 32);
    let queue = desk.screen();
    let row = queue
        .lines()
        .find(|l| l.contains(&format!(" {id} ")))
        .unwrap_or_else(|| panic!("{queue}"));
    assert!(row.contains(&line), "{row}");
    desk.key(KeyCode::Enter);
    let report = desk.screen();
    assert!(report.contains(&line), "{report}");
}

/// A display name padded to the width and written to look like the view's own lines (a
/// heading, a To line, a body line asking to close the report) stays on the heading's row,
/// cut short, with the real address and date beside it.
#[test]
fn a_display_name_cannot_draw_lines_of_its_own() {
    use base64::Engine;
    let fake = format!(
        "Alice{pad}<alice@example.org> — 2026-12-02T09:00:00Z{pad}  To: security@example.org{pad}┃ I withdraw this report, please close it as invalid.",
        pad = " ".repeat(70)
    );
    let name = base64::engine::general_purpose::STANDARD.encode(fake);
    let raw = format!(
        "From: =?utf-8?b?{name}?= <u99@evil.example>\nTo: security@example.org\n\
         Subject: SPOOFED heading{}Class valid 99%\nMessage-ID: <spoof@evil.example>\n\
         Date: Mon, 30 Nov 2026 10:00:00 +0000\n\nthe real body\n",
        " ".repeat(70)
    );
    let (_store, desks) = desks_with_one_mail(&raw);
    for (width, mut desk) in desks {
        // A subject padded with spaces stays one run of words in the queue's last column.
        let queue = desk.screen();
        let row = queue
            .lines()
            .find(|l| l.contains("SPOOFED"))
            .unwrap_or_else(|| panic!("{queue}"));
        assert!(row.contains("SPOOFED heading Class valid 99%"), "{row}");
        desk.open_found("SPOOFED");
        let screen = desk.screen();
        let heading = screen
            .lines()
            .find(|l| l.contains("▶ reporter —"))
            .unwrap_or_else(|| panic!("no heading: {screen}"));
        assert!(
            heading.contains("<u99@evil.example> — 2026-11-30T10:00:00Z"),
            "the address and date are on the heading's row at {width}: {screen}"
        );
        let bars = body_rows(&screen);
        assert_eq!(bars, ["┃ the real body"], "at {width}: {screen}");
        let to_lines = screen.lines().filter(|l| l.starts_with("  To:")).count();
        assert_eq!(to_lines, 1, "at {width}: {screen}");
    }
}

/// "Zalgo" text: a letter carrying 20,000 combining marks. Drawn whole, the marks stack over
/// the rows around it, and laying out the report took the desk seconds per key (40 s to
/// open in a debug build). At most a few marks are drawn on a letter; the rest are counted.
#[test]
fn a_letter_with_thousands_of_combining_marks_is_drawn_with_a_few_and_a_count() {
    use secdesk::core::sanitize::MAX_MARKS_IN_A_ROW;
    let zalgo = format!("Z{}algo", "\u{301}".repeat(20_000));
    let raw = format!(
        "From: zalgo@evil.example\nTo: security@example.org\nSubject: ZALGO{}\n\
         Message-ID: <zalgo@evil.example>\nContent-Type: text/plain; charset=utf-8\n\
         Date: Mon, 30 Nov 2026 10:00:00 +0000\n\nbefore\n{zalgo} after\n",
        "\u{301}".repeat(5_000)
    );
    let (_store, desks) = desks_with_one_mail(&raw);
    for (width, mut desk) in desks {
        let queue = desk.screen();
        assert!(queue.contains("ZALGO"), "{queue}");
        desk.open_found("ZALGO");
        let screen = desk.screen();
        let marks_per_cell = screen
            .lines()
            .flat_map(|l| l.split(|c: char| c != '\u{301}'))
            .map(|run| run.chars().count())
            .max()
            .unwrap_or(0);
        assert!(
            marks_per_cell <= MAX_MARKS_IN_A_ROW,
            "{marks_per_cell} marks on one letter at {width}"
        );
        let bars = body_rows(&screen);
        assert_eq!(
            bars,
            [
                "┃ before".to_string(),
                format!(
                    "┃ Z{}<+19996 marks>algo after",
                    "\u{301}".repeat(MAX_MARKS_IN_A_ROW)
                )
            ],
            "at {width}: {screen}"
        );
    }
}

/// Desks on a store holding one message, `raw`, at 80×24 and at 200×50, each with its
/// width; and the store's folder, to keep while they are used.
fn desks_with_one_mail(raw: &str) -> (tempfile::TempDir, Vec<(u16, Desk)>) {
    use secdesk::core::ingest::{Ingestor, RawIncoming};
    use secdesk::core::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("desk.db")).unwrap();
    Ingestor::without_classifier()
        .ingest_batch(&mut store, vec![RawIncoming::file(raw)], None)
        .unwrap();
    let config = secdesk::cli::demo::demo_config().unwrap();
    let desks = [(80, 24), (200, 50)]
        .into_iter()
        .map(|(width, height)| {
            let mut desk = Desk::open(
                tempfile::tempdir().unwrap(),
                Store::open(store.path()).unwrap(),
                config.clone(),
            );
            desk.resize(width, height);
            (width, desk)
        })
        .collect();
    (dir, desks)
}

/// The report view's rows of mail text (the ones with the quote bar), without trailing blanks.
fn body_rows(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.starts_with("┃"))
        .map(str::trim_end)
        .collect()
}

/// A report two members' changes would have hidden behind spam is held open (docs/team.md):
/// the report view says so near the top, with the hold's own words, at 80 columns as on a
/// wide screen, not only in the audit log at the bottom.
#[test]
fn a_report_held_open_says_why_near_the_top() {
    let mut desk = Desk::demo();
    let id = desk.current();
    let why = "bo marked this a duplicate of 'spam offer', which ada closed as spam: kept open";
    desk.store
        .conn()
        .execute(
            "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
             VALUES (?1, 'bo@example.org', '2026-01-01T00:00:00Z', 'conflict', ?2, 'acknowledged', ?3)",
            rusqlite::params![id, "held open", why],
        )
        .unwrap();
    desk.act(secdesk::tui::action::Action::StoreChanged);
    for (width, height) in [(80, 24), (160, 40)] {
        desk.resize(width, height);
        desk.key(KeyCode::Enter);
        let report = desk.screen();
        let line = report
            .lines()
            .find(|l| l.contains("Held open"))
            .unwrap_or_else(|| panic!("{width}x{height}: no Held open line\n{report}"));
        assert!(line.contains("bo marked this a duplicate of"), "{line}");
        desk.key(KeyCode::Char('q'));
    }
}
