//! Layouts that fit: the desk drawn at 60×15, 80×24, 120×40 and 200×60. Each size is a
//! snapshot; the assertions name what a triager must see at that size.

mod tui_support;

use crossterm::event::KeyCode;
use tui_support::Desk;

const SIZES: [(u16, u16); 4] = [(60, 15), (80, 24), (120, 40), (200, 60)];

fn rows(screen: &str) -> Vec<&str> {
    screen.lines().collect()
}

#[test]
fn every_queue_row_shows_id_class_state_and_subject_at_every_size() {
    for (w, h) in SIZES {
        let mut desk = Desk::demo();
        desk.resize(w, h);
        let screen = desk.screen();
        insta::assert_snapshot!(format!("queue_{w}x{h}"), screen);
        for row in &desk.state.queue.page.rows {
            let s = &row.summary;
            let line = rows(&screen)
                .into_iter()
                .find(|l| l.chars().skip(3).take(6).collect::<String>().trim() == s.id.to_string())
                .unwrap_or_else(|| panic!("#{} has no row at {w}x{h}:\n{screen}", s.id));
            assert!(
                line.contains(&s.state),
                "state of #{} at {w}x{h}: {line}",
                s.id
            );
            let class = s.class.as_deref().unwrap_or("-");
            assert!(
                line.contains(class),
                "class of #{} at {w}x{h}: {line}",
                s.id
            );
            let words: String = s.subject.chars().take(12).collect();
            assert!(
                line.contains(&words),
                "subject of #{} at {w}x{h}: {line}",
                s.id
            );
        }
        // The tabs are all there, whole or abbreviated.
        let tabs = rows(&screen)[0].to_lowercase();
        for short in ["triage", "suspect", "mine", "spam", "closed", "all"] {
            assert!(tabs.contains(short), "{short} at {w}x{h}: {tabs}");
        }
    }
}

#[test]
fn the_report_view_opens_on_the_mail_at_every_size() {
    for (w, h) in SIZES {
        let mut desk = Desk::demo();
        desk.resize(w, h);
        desk.key(KeyCode::Char('/'));
        desk.keys("tarfile");
        desk.key(KeyCode::Enter);
        desk.key(KeyCode::Enter);
        let screen = desk.screen();
        insta::assert_snapshot!(format!("report_{w}x{h}"), screen);
        assert!(
            screen.contains("Hello PSRT"),
            "the mail at {w}x{h}:\n{screen}"
        );
        assert!(
            !screen.contains("suggested valid by the test fixture"),
            "reasons folded"
        );
        // G stops with the last line at the bottom, whatever the size.
        desk.key(KeyCode::Char('G'));
        let end = desk.screen();
        let rows: Vec<&str> = end.lines().collect();
        assert!(
            !rows[rows.len() - 3].trim().is_empty(),
            "blank bottom at {w}x{h}:\n{end}"
        );
    }
}

#[test]
fn at_80_columns_the_subject_is_wide_and_coordinator_and_sender_drop_first() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    let screen = desk.screen();
    let header = rows(&screen)[1];
    assert!(
        !header.contains("coord") && !header.contains("from"),
        "{header}"
    );
    assert!(header.contains("due"), "{header}");
    let subject_at = header.find("subject").unwrap();
    assert!(
        80 - subject_at >= 30,
        "subject gets {} columns",
        80 - subject_at
    );
    desk.resize(120, 40);
    let header = desk.screen().lines().nth(1).unwrap().to_string();
    assert!(
        header.contains("coord") && header.contains("from"),
        "{header}"
    );
}

#[test]
fn at_60x15_the_help_scrolls_to_its_last_line() {
    let mut desk = Desk::demo();
    desk.resize(60, 15);
    desk.key(KeyCode::Char('?'));
    let first = desk.screen();
    insta::assert_snapshot!("help_60x15", first);
    assert!(first.contains("this help"));
    assert!(!first.contains(":messages"), "the end is below");
    desk.key(KeyCode::Char('G'));
    let end = desk.screen();
    assert!(end.contains("command: :messages"), "{end}");
    desk.key(KeyCode::Esc);
    assert!(!desk.screen().contains("this help"));
}

#[test]
fn at_60x15_the_report_view_shows_the_mail() {
    let mut desk = Desk::demo();
    desk.resize(60, 15);
    desk.key(KeyCode::Char('/'));
    desk.keys("tarfile");
    desk.key(KeyCode::Enter);
    desk.key(KeyCode::Enter);
    let screen = desk.screen();
    assert!(screen.contains("Hello PSRT"), "{screen}");
    assert!(screen.contains("spam score 0.09"), "{screen}");
    // w unfolds the reasons; w folds them again.
    desk.key(KeyCode::Char('w'));
    assert!(desk
        .screen()
        .contains("suggested valid by the test fixture"));
    desk.key(KeyCode::Char('w'));
    assert!(!desk
        .screen()
        .contains("suggested valid by the test fixture"));
}

#[test]
fn the_queue_never_leaves_blank_rows_while_reports_are_scrolled_out_of_view() {
    let mut desk = Desk::demo();
    desk.resize(80, 10); // five rows of queue
    desk.key(KeyCode::Char('G'));
    desk.resize(80, 24); // taller: the whole queue fits again
    let screen = desk.screen();
    assert_eq!(desk.state.queue.top, 0, "{screen}");
    assert!(screen.contains(" 4 "), "the first report is back in view");
}

#[test]
fn the_status_line_is_cut_with_an_ellipsis_and_never_runs_into_the_sync_indicator() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.act(secdesk::tui::action::Action::Sync(Err(
        "cannot connect to mail.example.org:993: Connection refused (os error 111)".into(),
    )));
    desk.act(secdesk::tui::action::Action::Failed(
        "the reply is kept in the outbox, but delivery could not run: Connection refused (os error 111) and more words".into(),
    ));
    let screen = desk.screen();
    let status = rows(&screen)[22];
    assert!(status.contains('…'), "{status}");
    assert!(status.contains("the reply is kept"), "{status}");
    assert!(status.contains("sync failed"), "{status}");
    assert!(
        !status.contains("erroroutbox") && !status.contains("errsync"),
        "{status}"
    );
    // Wide, the whole message fits.
    desk.resize(200, 24);
    let screen = desk.screen();
    assert!(screen.contains("and more words"), "{screen}");
    // And the log keeps it whole, with the last 100 lines.
    for i in 0..120 {
        desk.act(secdesk::tui::action::Action::Failed(format!("message {i}")));
    }
    assert_eq!(desk.state.messages.len(), 100);
    assert!(desk.state.messages.back().unwrap().contains("message 119"));
    desk.key(KeyCode::Char('L'));
    let log = desk.screen();
    assert!(log.contains("message 119"), "{log}");
    desk.key(KeyCode::Esc);
    desk.key(KeyCode::Char(':'));
    desk.keys("messages");
    desk.key(KeyCode::Enter);
    assert!(desk.screen().contains("Messages (last 100)"));
}

#[test]
fn the_footer_keeps_the_most_useful_keys() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    let screen = desk.screen();
    let footer = rows(&screen)[23];
    for key in [
        "? help", "s spam", "v valid", "u undo", "r reply", "d dup", "T stats", "q quit",
    ] {
        assert!(footer.contains(key), "{key}: {footer}");
    }
    desk.key(KeyCode::Char('T'));
    let screen = desk.screen();
    insta::assert_snapshot!("stats_80x24", screen);
    // The response table's last column (the share that met each target) ends inside its
    // box, not clipped by it; PEP 811's clocks are there too.
    let head = screen.lines().find(|l| l.contains("median")).unwrap();
    assert!(head.contains("n   met│"), "{head}");
    assert!(screen.contains("finish"), "{screen}");
    // m: the same screen by month, still fitting at 80 x 24.
    desk.key(KeyCode::Char('m'));
    let monthly = desk.screen();
    insta::assert_snapshot!("stats_monthly_80x24", monthly);
    assert!(monthly.contains("Monthly intake"), "{monthly}");
    assert!(monthly.contains("2026-11"), "{monthly}");
    assert!(monthly.contains("n   met│"), "{monthly}");
}

/// Held post number `i` of security@example.org, classified `class` with `outcome`.
fn held_post(
    i: u64,
    class: secdesk::core::model::Class,
    outcome: secdesk::core::model::Outcome,
) -> secdesk::core::moderation::ClassifiedPost {
    use secdesk::core::moderation::{ClassifiedPost, HeldPost};
    let sure = if outcome == secdesk::core::model::Outcome::Unsure {
        0.5
    } else {
        1.0
    };
    ClassifiedPost {
        post: HeldPost {
            list: "security@example.org".into(),
            request_id: i,
            message_id: Some(format!("held-{i}@example.net")),
            sender: format!("sender{i}@example.net"),
            subject: format!("Held post number {i}"),
            reason: "The message is not from a list member".into(),
            hold_date: None,
            raw: format!("Subject: Held post number {i}\n\nSome text.\n").into_bytes(),
        },
        verdict: secdesk::core::model::Verdict {
            class,
            outcome,
            spam_score: sure,
            confidence: sure,
            reasons: Vec::new(),
        },
        auth: Default::default(),
        doubt: None,
    }
}

/// The held screen (`H`) at 60×15: without `[mailman]` it says so in one line; with a long
/// queue the cursor stays in view and the footer names the moderation keys.
#[test]
fn the_held_screen_keeps_the_cursor_in_view_at_60x15() {
    use secdesk::core::model::{Class, Outcome};
    use secdesk::core::moderation::ClassifiedPost;
    let mut desk = Desk::demo();
    desk.resize(60, 15);
    desk.key(KeyCode::Char('H'));
    let screen = desk.screen();
    assert!(screen.contains("Held posts"), "{screen}");
    assert!(screen.contains("held queue:"), "{screen}");
    assert!(screen.contains("mailman"), "{screen}");
    let posts: Vec<ClassifiedPost> = (1..=12)
        .map(|i| {
            let class = if i % 2 == 0 {
                Class::Spam
            } else {
                Class::Valid
            };
            held_post(i, class, Outcome::Unsure)
        })
        .collect();
    desk.act(secdesk::tui::action::Action::HeldLoaded(
        Ok(posts),
        Vec::new(),
    ));
    for _ in 0..11 {
        desk.key(KeyCode::Char('j'));
    }
    let screen = desk.screen();
    let rows = rows(&screen);
    assert!(
        rows.iter().any(|r| r.contains("12 sender12@example.net")),
        "the cursor's post is in view:\n{screen}"
    );
    assert!(rows[14].contains("a accept"), "{screen}");
    assert!(rows[14].contains("s discard"), "{screen}");
    desk.key(KeyCode::Char('q'));
    assert!(desk.screen().contains("Needs triage") || desk.screen().contains("Triage"));
}

/// At 80×24 the held screen tells the verdicts apart as the queue does: an unsure one is
/// marked `??`, and a post whose content Mailman lost reads `lost`, never `valid` (its
/// verdict's class is a placeholder: nothing was classified).
#[test]
fn at_80x24_the_held_screen_marks_unsure_verdicts_and_lost_content() {
    use secdesk::core::model::{Class, Outcome, Verdict};
    use secdesk::core::moderation::{ClassifiedPost, HeldPost, LOST_REASON};
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Char('H'));
    let held =
        |id: u64, sender: &str, raw: &str, class, outcome, reasons: Vec<String>| ClassifiedPost {
            post: HeldPost {
                list: "security@example.org".into(),
                request_id: id,
                message_id: Some(format!("held-{id}@example.net")),
                sender: sender.into(),
                subject: format!("Post {id}"),
                reason: "not a member".into(),
                hold_date: None,
                raw: raw.as_bytes().to_vec(),
            },
            verdict: Verdict {
                class,
                outcome,
                spam_score: 0.5,
                confidence: 0.5,
                reasons,
            },
            auth: Default::default(),
            // Mailman's stand-in for a lost post is a doubt of the post's own.
            doubt: raw
                .contains("Message content lost")
                .then_some(secdesk::core::moderation::Doubt::ContentLost),
        };
    let lost =
        "Subject: Message content lost\nFrom: a@example.net\n\nThis held message has been lost.\n";
    let text = "Subject: Post\n\nA heap overflow in zipfile.\n";
    let posts = vec![
        held(
            1,
            "real@example.net",
            text,
            Class::Valid,
            Outcome::Ham,
            vec![],
        ),
        held(
            2,
            "lost@example.net",
            lost,
            Class::Valid,
            Outcome::Unsure,
            vec![LOST_REASON.into()],
        ),
        held(
            3,
            "maybe@example.net",
            text,
            Class::Spam,
            Outcome::Unsure,
            vec![],
        ),
        held(
            4,
            "spam@example.net",
            text,
            Class::Spam,
            Outcome::Spam,
            vec![],
        ),
    ];
    desk.act(secdesk::tui::action::Action::HeldLoaded(
        Ok(posts),
        Vec::new(),
    ));
    let screen = desk.screen();
    insta::assert_snapshot!("held_verdicts_80x24", screen);
    let row = |sender: &str| {
        rows(&screen)
            .into_iter()
            .find(|r| r.contains(sender))
            .unwrap_or_else(|| panic!("no row for {sender}:\n{screen}"))
            .to_string()
    };
    let lost = row("lost@example.net");
    assert!(lost.starts_with("lost "), "{lost}");
    assert!(
        !lost.contains("valid"),
        "a lost post reads as a report: {lost}"
    );
    assert!(row("maybe@example.net").starts_with("spam?? "), "{screen}");
    let real = row("real@example.net");
    assert!(real.starts_with("valid ") && !real.contains("??"), "{real}");
    let spam = row("spam@example.net");
    assert!(spam.starts_with("spam ") && !spam.contains("??"), "{spam}");
    // The whole line still fits: the list's name ends each row at 80 columns.
    assert!(lost.trim_end().ends_with("security@example.org"), "{lost}");
    // Under the cursor, a lost post says what became of it and what to do.
    desk.key(KeyCode::Char('j'));
    let screen = desk.screen();
    let words = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Mailman lost this post's content")
            && words.contains("ask the sender to send it again"),
        "the advice is whole at 80 columns: {screen}"
    );
    insta::assert_snapshot!("held_lost_under_cursor_80x24", screen);
}

#[test]
fn a_status_line_cut_at_80_columns_says_l_shows_it_whole() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    let long = "cannot start the editor \"/usr/bin/nvim\" (from $EDITOR): No such file or directory (os error 2); set $VISUAL or $EDITOR to an installed editor";
    desk.act(secdesk::tui::action::Action::Failed(long.into()));
    let screen = desk.screen();
    let status = rows(&screen)[22];
    assert!(status.contains("cannot start the editor"), "{status}");
    assert!(
        status.trim_end().ends_with("… L shows all"),
        "the cut line says where the rest is: {status}"
    );
    desk.key(KeyCode::Char('L'));
    assert!(desk.screen().contains("installed"), "{}", desk.screen());
    // A line that fits is not touched.
    desk.key(KeyCode::Esc);
    desk.resize(200, 24);
    let screen = desk.screen();
    assert!(screen.contains("to an installed editor"), "{screen}");
    assert!(!screen.contains("L shows all"), "{screen}");
}

#[test]
fn at_80x24_the_advice_on_an_empty_search_and_on_the_held_screen_is_whole() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.search("tarfile");
    desk.key(KeyCode::Tab); // Suspected spam: no tarfile there
    let screen = desk.screen();
    assert!(screen.contains("No match in this queue"), "{screen}");
    assert!(
        screen.contains("clears the search."),
        "how to get the reports back is not cut off: {screen}"
    );
    // The held screen without [mailman] says what to add, to the end.
    desk.key(KeyCode::Esc);
    desk.key(KeyCode::Char('H'));
    let screen = desk.screen();
    let words = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(screen.contains("no [mailman] section"), "{screen}");
    assert!(
        words.contains("(see config.example.toml) to moderate the list's held queue"),
        "{screen}"
    );
}

#[test]
fn at_80x24_every_line_of_the_help_keeps_its_keys_column() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Char('?'));
    let mut seen = Vec::new();
    loop {
        let screen = desk.screen();
        let rows = rows(&screen);
        let left = rows[0]
            .chars()
            .position(|c| c == '┌')
            .expect("the help's box");
        for row in rows.iter().skip(1) {
            let chars: Vec<char> = row.chars().collect();
            if chars.get(left) != Some(&'│') {
                continue;
            }
            let inside: String = chars[left + 1..].iter().collect();
            // A help text too long for the box used to wrap to the box's edge, under
            // the keys: "│response (phone, other)".
            assert!(
                inside.starts_with(' '),
                "a help line wrapped under the keys: {row}\n{screen}"
            );
            seen.push(inside);
        }
        desk.key(KeyCode::Char('j'));
        if desk.screen() == screen {
            break; // scrolled to its end
        }
    }
    assert!(seen.iter().any(|l| l.contains("mark spam")));
    assert!(seen.iter().any(|l| l.contains("answered elsewhere")));
}

#[test]
fn at_80x24_the_held_screens_title_is_not_cut_mid_word() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Char('H'));
    let screen = desk.screen();
    let title = rows(&screen)[0];
    assert!(title.contains("Held posts (Mailman)"), "{screen}");
    // It used to end "· r reject · S sw".
    assert!(
        !title.contains("S sw") || title.contains("S sweep spam"),
        "{title}"
    );
    let footer = rows(&screen)[23];
    assert!(
        footer.contains("S sweep spam"),
        "the footer has the keys: {footer}"
    );
    desk.resize(120, 30);
    assert!(rows(&desk.screen())[0].contains("S sweep spam"));
}

/// At 80×24 a listing with held entries the desk could not read says so above the posts, in
/// full (wrapped), sending the moderator to Mailman's web UI; the readable posts are still
/// listed, and a listing with nothing readable does not claim that nothing is held.
#[test]
fn at_80x24_the_held_screen_says_what_the_listing_could_not_show() {
    use secdesk::core::model::{Class, Outcome, Verdict};
    use secdesk::core::moderation::gaps::{ListingGap, UnreadableEntry};
    use secdesk::core::moderation::{ClassifiedPost, HeldPost};
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Char('H'));
    let spam = ClassifiedPost {
        post: HeldPost {
            list: "security@example.org".into(),
            request_id: 4,
            message_id: Some("spam@example.net".into()),
            sender: "win@lottery.example".into(),
            subject: "You WON".into(),
            reason: "not a member".into(),
            hold_date: None,
            raw: b"Subject: You WON\n\nclaim now\n".to_vec(),
        },
        verdict: Verdict {
            class: Class::Spam,
            outcome: Outcome::Spam,
            spam_score: 1.0,
            confidence: 1.0,
            reasons: Vec::new(),
        },
        auth: Default::default(),
        doubt: None,
    };
    let gap = ListingGap::Unreadable {
        list: "security@example.org".into(),
        entries: vec![UnreadableEntry {
            position: 2,
            why: "`request_id` is missing".into(),
            sender: "alice@reporter.example".into(),
            subject: "Heap overflow in zipfile".into(),
            message_id: String::new(),
            hold_date: String::new(),
        }],
    };
    let act = |posts, gaps| secdesk::tui::action::Action::HeldLoaded(Ok(posts), gaps);
    desk.act(act(vec![spam], vec![gap.clone()]));
    let screen = desk.screen();
    let joined = rows(&screen)
        .iter()
        .map(|r| r.trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        joined.contains("NOT SHOWN: 1 held entry of security@example.org could not be read"),
        "{screen}"
    );
    assert!(
        joined.contains("\"Heap overflow in zipfile\" from alice@reporter.example")
            && joined.contains("moderate it in Mailman's web UI (Postorius)"),
        "{screen}"
    );
    assert!(screen.contains("win@lottery.example"), "{screen}");

    desk.act(act(Vec::new(), vec![gap]));
    let screen = desk.screen();
    assert!(!screen.contains("No post is held"), "{screen}");
    assert!(
        screen.contains("No held post can be shown here"),
        "{screen}"
    );
    assert!(screen.contains("NOT SHOWN: 1 held entry"), "{screen}");
}

/// However much the listing could not show, the post under the cursor (which `a`, `s` and
/// `z` act on) stays on screen at 80×24: the gaps take at most a third of it, and the last
/// of their rows says how much more there is and where it is said whole.
#[test]
fn at_80x24_long_listing_gaps_never_push_the_post_under_the_cursor_off_screen() {
    use secdesk::core::model::{Class, Outcome};
    use secdesk::core::moderation::gaps::{ListingGap, UnreadableEntry};
    use secdesk::core::moderation::ClassifiedPost;
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Char('H'));
    let posts: Vec<ClassifiedPost> = (1..=30)
        .map(|n| held_post(n, Class::Spam, Outcome::Spam))
        .collect();
    let long = "x".repeat(80);
    let gaps: Vec<ListingGap> = (0..4)
        .map(|l| ListingGap::Unreadable {
            list: format!("list{l}@example.org"),
            entries: (0..5)
                .map(|i| UnreadableEntry {
                    position: i + 1,
                    why: format!("`request_id` is missing {long}"),
                    sender: format!("{long}@reporter.example"),
                    subject: long.clone(),
                    message_id: String::new(),
                    hold_date: String::new(),
                })
                .collect(),
        })
        .collect();
    desk.act(secdesk::tui::action::Action::HeldLoaded(Ok(posts), gaps));
    for _ in 0..29 {
        desk.key(KeyCode::Char('j'));
    }
    let screen = desk.screen();
    assert!(screen.contains("post number 30"), "{screen}");
    assert!(
        screen.contains("rows more: `secdesk held` says them whole"),
        "{screen}"
    );
    let red_rows = rows(&screen)
        .iter()
        .filter(|r| r.contains("NOT SHOWN") || r.contains("x".repeat(20).as_str()))
        .count();
    assert!(red_rows <= 23 / 3, "{red_rows} rows of gaps:\n{screen}");
}

/// The overdue reports listed on the stats screen, by the `#id` each row starts with.
fn overdue_shown(screen: &str, ids: &[i64]) -> Vec<i64> {
    ids.iter()
        .copied()
        .filter(|id| {
            screen
                .lines()
                .any(|l| l.contains(&format!(" #{id:<5} ")) && l.contains("late"))
        })
        .collect()
}

/// At 80x24 the stats screen said `Overdue (14)` over 4 rows, with `j/k move` in its footer
/// and no key doing anything. j/k and the page keys now scroll the list, its title says
/// which of them show, and the footer says scroll.
#[test]
fn at_80x24_the_overdue_list_scrolls_and_says_how_many_show() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Char('T'));
    let stats = desk.state.stats.clone().expect("the stats loaded");
    let ids: Vec<i64> = stats.overdue.iter().map(|o| o.0).collect();
    let total = stats.overdue_count;
    let screen = desk.screen();
    let shown = overdue_shown(&screen, &ids);
    assert!(
        !shown.is_empty() && shown.len() < ids.len(),
        "the demo's list is longer than the box: {shown:?}\n{screen}"
    );
    assert_eq!(shown, ids[..shown.len()], "{screen}");
    let title = format!("Overdue (1-{} of {total}, j/k)", shown.len());
    assert!(screen.contains(&title), "{title} in\n{screen}");
    let footer = rows(&screen).last().unwrap().to_string();
    assert!(footer.contains("j/k scroll"), "{footer}");

    desk.key(KeyCode::Char('j'));
    let next = overdue_shown(&desk.screen(), &ids);
    assert_eq!(next, ids[1..=shown.len()], "{}", desk.screen());
    desk.key(KeyCode::Char('k'));
    assert_eq!(overdue_shown(&desk.screen(), &ids), shown);
    desk.key(KeyCode::PageDown);
    assert_eq!(
        overdue_shown(&desk.screen(), &ids)[0],
        ids[shown.len()],
        "a page on: {}",
        desk.screen()
    );
    desk.key(KeyCode::Char('G'));
    let end = desk.screen();
    let last = overdue_shown(&end, &ids);
    assert_eq!(last.last(), ids.last(), "{end}");
    let title = format!(
        "Overdue ({}-{} of {total}, j/k)",
        ids.len() - last.len() + 1,
        ids.len()
    );
    assert!(end.contains(&title), "{title} in\n{end}");
    desk.key(KeyCode::Char('g'));
    assert_eq!(overdue_shown(&desk.screen(), &ids), shown);
}

/// `/` on the stats screen opened the queue's search there: the typed text then filtered
/// the queue behind it, unseen (1 of 14 on going back). It is refused with where it works.
#[test]
fn search_on_the_stats_screen_is_refused_and_the_queue_stays_whole() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    let total = desk.state.queue.page.total;
    desk.key(KeyCode::Char('T'));
    desk.key(KeyCode::Char('/'));
    assert!(
        matches!(desk.state.overlay, secdesk::tui::app::Overlay::None),
        "no search prompt on the stats screen"
    );
    let status = desk.status();
    assert!(
        status.starts_with("/: search") && status.contains("not here"),
        "{status}"
    );
    desk.keys("tarfile");
    desk.key(KeyCode::Enter);
    desk.key(KeyCode::Char('q'));
    assert!(desk.state.search.is_none());
    assert_eq!(desk.state.queue.page.total, total);
    let screen = desk.screen();
    assert!(!screen.contains("search:"), "{screen}");
}

/// Needs triage keeps the spam the classifier was unsure of (`spam??` in the class column)
/// at its end whatever the sort; its info line said only "newest first".
#[test]
fn at_80x24_needs_triage_says_unsure_spam_comes_last() {
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    // The line under the queue: "Needs triage · 1/9 · newest first…".
    let info = |desk: &Desk| {
        let screen = desk.screen();
        let line = rows(&screen)[desk.state.height as usize - 3].to_string();
        assert!(line.contains(desk.state.tab.title()), "{screen}");
        line
    };
    assert!(
        info(&desk).contains("newest first, spam?? last"),
        "{}",
        desk.screen()
    );
    desk.key(KeyCode::Char('o'));
    assert!(
        info(&desk).contains("deadline first, spam?? last"),
        "{}",
        desk.screen()
    );
    assert!(desk.status().contains("spam?? last"), "{}", desk.status());
    desk.key(KeyCode::Tab); // Suspected spam: no such order
    assert!(info(&desk).contains("deadline first"), "{}", desk.screen());
    assert!(!info(&desk).contains("spam?? last"), "{}", desk.screen());

    // And it is true: the newest report, made an unsure spam verdict, goes to the end.
    let mut desk = Desk::demo();
    let newest = desk.current();
    desk.store
        .conn()
        .execute(
            "UPDATE reports SET class = 'spam', outcome = 'unsure' WHERE id = ?1",
            [newest],
        )
        .unwrap();
    desk.act(secdesk::tui::action::Action::StoreChanged);
    assert_eq!(desk.queue_ids().last(), Some(&newest), "{}", desk.screen());
    assert!(desk.screen().contains("spam??"), "{}", desk.screen());
    assert!(info(&desk).contains("newest first, spam?? last"));
}

/// The reject preview shows the reason Mailman will mail, whole, before `y` sends it. A
/// sender's subject of about 3,000 characters used to wrap over every row (in the Post field
/// and again inside the reason through `{subject}`), with the rest of the reason off the
/// bottom and nothing to scroll it. The Post field is one row, `{subject}` is cut at 200
/// characters, and the preview scrolls as a reply's does and says where it is.
#[test]
fn the_reject_preview_of_a_post_with_a_huge_subject_shows_the_whole_reason() {
    use secdesk::core::model::{Class, Outcome, Verdict};
    use secdesk::core::moderation::{reject_reasons, ClassifiedPost, HeldPost};
    let subject = format!("Heap overflow {}", "A".repeat(3_000));
    let post = ClassifiedPost {
        post: HeldPost {
            list: "security@example.org".into(),
            request_id: 7,
            message_id: Some("huge@example.net".into()),
            sender: "mallory@example.net".into(),
            subject: subject.clone(),
            reason: "The message is not from a list member".into(),
            hold_date: None,
            raw: format!("From: mallory@example.net\nSubject: {subject}\n\nbody\n").into_bytes(),
        },
        verdict: Verdict {
            class: Class::Invalid,
            outcome: Outcome::Ham,
            spam_score: 0.2,
            confidence: 0.8,
            reasons: vec![],
        },
        auth: Default::default(),
        doubt: None,
    };
    let config_dir = tempfile::tempdir().unwrap();
    let reasons = reject_reasons::for_post(config_dir.path(), &post.post, "Ada", None);
    let chosen = reasons
        .iter()
        .position(|r| r.name == "not-a-vulnerability")
        .expect("the shipped reason");
    let reason = reasons[chosen].text.clone().expect("it renders");
    // `{subject}` is cut: the reason quotes 200 characters of it and an ellipsis.
    assert!(
        reason.contains(&format!("\"Heap overflow {}…\"", "A".repeat(186))),
        "{reason}"
    );
    assert!(!reason.contains(&"A".repeat(187)), "{reason}");
    for (w, h) in [(80, 24), (160, 45)] {
        let mut desk = Desk::demo();
        desk.resize(w, h);
        desk.key(KeyCode::Char('H'));
        desk.act(secdesk::tui::action::Action::HeldLoaded(
            Ok(vec![post.clone()]),
            Vec::new(),
        ));
        desk.act(secdesk::tui::action::Action::RejectReasons(
            Box::new(post.clone()),
            reasons.clone(),
        ));
        for _ in 0..chosen {
            desk.key(KeyCode::Down);
        }
        desk.key(KeyCode::Enter);
        let screen = desk.screen();
        insta::assert_snapshot!(format!("reject_preview_huge_subject_{w}x{h}"), screen);
        // One row for the post: the next field follows right under it; and the whole
        // reason shows, down to the moderator's name.
        let lines = rows(&screen);
        let at = lines
            .iter()
            .position(|l| l.contains("Post          Heap overflow"))
            .unwrap_or_else(|| panic!("{screen}"));
        assert!(lines[at].contains('…'), "{screen}");
        assert!(lines[at + 1].contains("Held because"), "{screen}");
        assert!(
            screen.contains("issue tracker.") && screen.contains("│Ada "),
            "{screen}"
        );
    }

    // A reason taller than the box (a moderator's own words) scrolls, and says where it is.
    let mut long = reasons[chosen].clone();
    long.text = Ok((1..=50)
        .map(|n| format!("line {n} of the reason\n"))
        .collect());
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Char('H'));
    desk.act(secdesk::tui::action::Action::HeldLoaded(
        Ok(vec![post.clone()]),
        Vec::new(),
    ));
    desk.act(secdesk::tui::action::Action::RejectReasons(
        Box::new(post.clone()),
        vec![long],
    ));
    desk.key(KeyCode::Enter);
    let top = desk.screen();
    assert!(top.contains("↓ more: lines 1-20 of 55"), "{top}");
    assert!(!top.contains("line 50 of"), "{top}");
    desk.key(KeyCode::Char(' '));
    desk.key(KeyCode::Char(' '));
    desk.key(KeyCode::Char('j'));
    let end = desk.screen();
    insta::assert_snapshot!("reject_preview_long_reason_80x24_end", end);
    assert!(
        end.contains("line 50 of the reason") && end.contains("(end)"),
        "{end}"
    );
    desk.key(KeyCode::Char('g'));
    assert_eq!(desk.screen(), top, "g goes back to the top");
}

/// A post Mailman lists with another post's text (same Message-ID) reads `mismatch` on the
/// held screen, never the class its borrowed text scored, and says why under the cursor.
#[test]
fn at_80x24_a_post_with_another_posts_text_reads_mismatch_with_the_reason() {
    use secdesk::core::classify::{storage::starter_model, Classifier, RuleSet};
    use secdesk::core::moderation::{classify, HeldPost};
    let spam = "From: Pharma <deals@pharma.example>\nSubject: Cheap pills, best price\nMessage-ID: <report-2026@research.example>\n\nBuy cheap viagra and cialis online now! Best price, no prescription.\n";
    let report = HeldPost {
        list: "security@example.org".into(),
        request_id: 2,
        message_id: Some("report-2026@research.example".into()),
        sender: "alice@research.example".into(),
        subject: "Heap overflow in the tarfile module (CVE request)".into(),
        reason: "not a member".into(),
        hold_date: None,
        raw: spam.as_bytes().to_vec(),
    };
    let classifier = Classifier::new(starter_model().unwrap(), RuleSet::builtin().unwrap());
    let posts = classify(&classifier, &[], vec![report]);
    let mut desk = Desk::demo();
    desk.resize(80, 24);
    desk.key(KeyCode::Char('H'));
    desk.act(secdesk::tui::action::Action::HeldLoaded(
        Ok(posts),
        Vec::new(),
    ));
    let screen = desk.screen();
    let row = rows(&screen)
        .into_iter()
        .find(|l| l.contains("alice@research.example"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        row.starts_with("mismatch ") && !row.contains("spam"),
        "{row}"
    );
    assert!(
        screen.contains("Mailman gives this post another post's text"),
        "{screen}"
    );
}
