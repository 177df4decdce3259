//! A desk driven synchronously for tests: keys go through `update`, and every request it
//! returns runs at once on the test's store (as the store worker would), at a fixed "now".
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rusqlite::params;

use secdesk::cli::demo::{demo_config, load_demo};
use secdesk::core::config::Config;
use secdesk::core::store::Store;
use secdesk::tui::action::{Action, Request};
use secdesk::tui::app::State;
use secdesk::tui::{initial_state, requests, update::update, views};

/// The demo's "today" (assets/demo/README.md).
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

pub struct Desk {
    pub dir: tempfile::TempDir,
    pub session: requests::Session,
    pub store: Store,
    pub config: Config,
    pub state: State,
}

/// The suggested classes of the demo reports (README's expected classes), with one
/// unsure verdict, as a classifier would have stored them.
const SUGGESTED: &[(i64, &str, &str, f64)] = &[
    (1, "valid", "ham", 0.91),
    (2, "valid", "ham", 0.84),
    (3, "valid", "unsure", 0.55),
    (4, "valid", "ham", 0.77),
    (5, "invalid", "ham", 0.88),
    (6, "invalid", "ham", 0.93),
    (7, "invalid", "ham", 0.71),
    (8, "invalid", "ham", 0.66),
    (9, "invalid", "ham", 0.62),
    (10, "spam", "spam", 0.99),
    (11, "spam", "spam", 0.95),
    (12, "spam", "spam", 0.97),
    (13, "spam", "spam", 0.98),
    (14, "spam", "spam", 0.90),
];

impl Desk {
    /// The demo mailbox with suggested classes, a team note and one reply of ours on the
    /// tarfile report (#1), on a desk 120 x 32.
    pub fn demo() -> Desk {
        Desk::demo_with(demo_config().unwrap())
    }

    /// [`Desk::demo`]'s store and fixtures under another config.
    pub fn demo_with(config: Config) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("desk.db")).unwrap();
        load_demo(&mut store).unwrap();
        let conn = store.conn();
        for (id, class, outcome, confidence) in SUGGESTED {
            conn.execute(
                "UPDATE reports SET class = ?2, outcome = ?3, confidence = ?4, spam_score = ?5,
                    reasons = ?6 WHERE id = ?1",
                params![
                    id,
                    class,
                    outcome,
                    confidence,
                    if *class == "spam" {
                        *confidence
                    } else {
                        1.0 - confidence
                    },
                    format!("[\"suggested {class} by the test fixture\"]"),
                ],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO notes (report_id, author, at, text)
             VALUES (1, 'ada@demo.example', '2026-11-06T09:00:00Z', 'Reproduced on 3.13.')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO messages (report_id, content_hash, message_id, direction, received_at,
                date, from_name, from_addr, subject, body, raw)
             VALUES (1, 'ours-1', 'reply-1@demo.example', 'out', '2026-11-06T10:00:00Z',
                '2026-11-06T10:00:00Z', 'Python Security', 'security@python.org',
                'Re: tarfile', 'Thanks, we are looking into it.', x'00')",
            [],
        )
        .unwrap();
        Desk::open(dir, store, config)
    }

    /// A desk on `store` with `config`, 120 x 32; `dir` is kept alive with it.
    pub fn open(dir: tempfile::TempDir, store: Store, config: Config) -> Desk {
        let state = initial_state(&config, now());
        let session = requests::Session::new(Store::open(store.path()).unwrap(), config.clone());
        let mut desk = Desk {
            dir,
            session,
            store,
            config,
            state,
        };
        desk.act(Action::Resize {
            width: 120,
            height: 32,
        });
        desk
    }

    /// Feeds an action, then runs what it asks of the store until nothing is left.
    pub fn act(&mut self, action: Action) {
        let mut queue = std::collections::VecDeque::from([action]);
        while let Some(a) = queue.pop_front() {
            for request in update(&mut self.state, a) {
                // The desk's UI loop runs the editor (around a suspended terminal); here
                // it runs in place, with whatever $VISUAL the test set.
                let answer = match request {
                    Request::EditReply(buffer) => secdesk::tui::reply::edit(&buffer),
                    Request::EditAdvisory(form) => {
                        let answer = secdesk::tui::reply::edit(&form.text);
                        secdesk::tui::advisory::edited(form, answer)
                    }
                    Request::EditRejectReason(reason) => {
                        secdesk::tui::held::edited(secdesk::tui::reply::edit(&reason))
                    }
                    other => self.session.handle(now(), other),
                };
                queue.push_back(answer);
            }
        }
    }

    /// Searches the queue for `text` (`/ text Enter`).
    pub fn search(&mut self, text: &str) {
        self.key(KeyCode::Char('/'));
        self.keys(text);
        self.key(KeyCode::Enter);
    }

    /// Searches the queue for `text` and opens the first report found (`/ text Enter Enter`).
    pub fn open_found(&mut self, text: &str) {
        self.search(text);
        self.key(KeyCode::Enter);
    }

    pub fn key(&mut self, code: KeyCode) {
        self.act(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// Presses Ctrl and a letter.
    pub fn ctrl(&mut self, c: char) {
        self.act(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )));
    }

    /// The terminal is now `width` x `height`.
    pub fn resize(&mut self, width: u16, height: u16) {
        self.act(Action::Resize { width, height });
    }

    /// The id under the cursor.
    pub fn current(&self) -> i64 {
        self.state
            .queue
            .current()
            .expect("a report under the cursor")
            .summary
            .id
    }

    /// Presses each character as a key.
    pub fn keys(&mut self, chars: &str) {
        for c in chars.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    pub fn terminal(&self, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| views::draw(f, &self.state)).unwrap();
        terminal
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        let t = self.terminal(self.state.width, self.state.height);
        let buf = t.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    pub fn status(&self) -> String {
        self.state
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }

    pub fn report_field(&self, id: i64, field: &str) -> Option<String> {
        self.store
            .conn()
            .query_row(
                &format!("SELECT {field} FROM reports WHERE id = ?1"),
                [id],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// The ids on the queue's current page, in order.
    pub fn queue_ids(&self) -> Vec<i64> {
        self.state
            .queue
            .page
            .rows
            .iter()
            .map(|r| r.summary.id)
            .collect()
    }
}
