//! The desk's benchmark (run by `bench/tui.sh`): a store of generated reports, the real
//! store worker thread, and the real `update` and views drawn into a 160 x 45 test backend.
//!
//! - `tui_bench generate DB N`: writes N reports (one message each, indexed for search).
//! - `tui_bench run DB`: time to first frame, key-to-frame latency while scrolling,
//!   filtering (tabs, sort) and searching (typed letter by letter), and peak RSS.
//!
//! Key-to-frame is the time from the key to the first frame that shows its result: when the
//! key needs rows that are not loaded, the frame after the store worker's answer.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rusqlite::params;

use secdesk::cli::demo::demo_config;
use secdesk::core::store::Store;
use secdesk::tui::action::{Action, Request};
use secdesk::tui::app::State;
use secdesk::tui::{initial_state, update::update, views, worker};

const WORDS: &[&str] = &[
    "buffer",
    "overflow",
    "tarfile",
    "zipfile",
    "crash",
    "remote",
    "code",
    "execution",
    "invoice",
    "payment",
    "bitcoin",
    "withdrawal",
    "parcel",
    "delivery",
    "urgent",
    "security",
    "audit",
    "report",
    "python",
    "module",
    "traversal",
    "symlink",
    "header",
    "injection",
    "denial",
    "service",
    "regex",
    "quadratic",
    "pickle",
    "unsafe",
    "bounty",
    "dmarc",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => generate(Path::new(&args[2]), args[3].parse()?),
        Some("run") => run(Path::new(&args[2])),
        _ => anyhow::bail!("usage: tui_bench generate DB N | tui_bench run DB"),
    }
}

/// A deterministic pseudo-random sequence, so every run measures the same store.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn generate(path: &Path, n: usize) -> anyhow::Result<()> {
    use secdesk::core::store::search_terms::index_terms;
    let mut store = Store::open(path)?;
    let start = Utc.with_ymd_and_hms(2024, 11, 25, 0, 0, 0).unwrap();
    let mut rng = Lcg(42);
    let tx = store.conn_mut().transaction()?;
    {
        let mut report = tx.prepare(
            "INSERT INTO reports (id, created_at, state, class, outcome, confidence, coordinator,
                updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?2)",
        )?;
        let mut message = tx.prepare(
            "INSERT INTO messages (id, report_id, content_hash, message_id, received_at,
                from_name, from_addr, subject, body, raw)
             VALUES (?1, ?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, x'00')",
        )?;
        let mut fts = tx.prepare(
            "INSERT INTO messages_fts (rowid, subject, sender, body) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut event = tx.prepare(
            "INSERT INTO events (report_id, actor, at, kind, after) VALUES (?1, 'secdesk', ?2, 'created', ?3)",
        )?;
        for id in 1..=n as i64 {
            // Two years of mail, oldest first.
            let at = start + chrono::Duration::seconds(id * (2 * 365 * 86_400) / n as i64);
            let at = secdesk::core::store::timestamp(at);
            let class = ["spam", "spam", "spam", "invalid", "valid", "valid"][rng.next(6)];
            let state = match rng.next(10) {
                0..=3 => "new",
                4..=6 => class,
                7 => "acknowledged",
                8 => "triaged",
                _ => "resolved",
            };
            let state = if state == "valid" { "triaged" } else { state };
            let outcome = if rng.next(8) == 0 {
                "unsure"
            } else if class == "spam" {
                "spam"
            } else {
                "ham"
            };
            let coordinator = ["ada@demo.example", "you@demo.example"]
                .get(rng.next(4))
                .copied();
            // Mostly ordinary words (a 20,000-word vocabulary, skewed like real text), with a
            // few of the desk's domain words: a search for one matches about a tenth of the mail.
            let mut words = |n: usize, domain: usize| -> Vec<String> {
                let mut v: Vec<String> = (0..n)
                    .map(|_| {
                        let spread = 1 + rng.next(20_000);
                        format!("w{}", rng.next(spread))
                    })
                    .collect();
                for _ in 0..domain {
                    let i = rng.next(v.len());
                    v[i] = WORDS[rng.next(WORDS.len())].to_string();
                }
                v
            };
            let subject = words(6, 1);
            let body = words(40, 2);
            let (name, addr) = (
                format!("Sender {}", id % 977),
                format!("s{}@example.org", id % 977),
            );
            report.execute(params![
                id,
                at,
                state,
                class,
                outcome,
                0.5 + rng.next(50) as f64 / 100.0,
                coordinator
            ])?;
            message.execute(params![
                id,
                format!("{id}@bench.example"),
                at,
                name,
                addr,
                subject.join(" "),
                body.join(" ")
            ])?;
            fts.execute(params![
                id,
                index_terms(&subject.join(" ")),
                index_terms(&format!("{name} <{addr}>")),
                index_terms(&body.join(" "))
            ])?;
            event.execute(params![id, at, class])?;
        }
    }
    tx.commit()?;
    store.conn().execute_batch("ANALYZE")?;
    // Opened once more, as the desk will find it: rows written straight into the tables
    // leave the store's one-time upkeep (training its compression dictionary, re-packing
    // and compacting) to the next open, which a sync does as it goes. The benchmark times
    // the desk, not that.
    drop(store);
    drop(Store::open(path)?);
    println!("generated {n} reports in {}", path.display());
    Ok(())
}

struct Bench {
    state: State,
    terminal: Terminal<TestBackend>,
    requests: mpsc::Sender<Request>,
    events: mpsc::Receiver<Action>,
}

impl Bench {
    /// Whatever is on screen has what it needs: the queue page for the current filter,
    /// with the cursor's row (or an empty queue).
    fn settled(&self) -> bool {
        let q = &self.state.queue;
        q.loaded && (q.page.total == 0 || q.current().is_some())
    }

    fn send(&self, out: Vec<Request>) {
        for r in out {
            self.requests.send(r).expect("the store worker runs");
        }
    }

    /// Feeds actions from the worker until the screen is settled, then draws.
    fn settle_and_draw(&mut self) {
        while !self.settled() {
            let action = self
                .events
                .recv_timeout(Duration::from_secs(30))
                .expect("the store worker answers");
            let out = update(&mut self.state, action);
            self.send(out);
        }
        let state = &self.state;
        self.terminal
            .draw(|f| views::draw(f, state))
            .expect("test backend");
    }

    /// Presses a key and returns how long until the frame that shows its result.
    fn press(&mut self, code: KeyCode) -> Duration {
        let started = Instant::now();
        let out = update(
            &mut self.state,
            Action::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        );
        self.send(out);
        self.settle_and_draw();
        started.elapsed()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn max(v: &[Duration]) -> Duration {
    v.iter().copied().max().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn report(what: &str, v: Vec<Duration>) {
    println!(
        "{what:<34} median {:>10}  max {:>10}  (n={})",
        ms(median(v.clone())),
        ms(max(&v)),
        v.len()
    );
}

fn run(path: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut config = demo_config()?;
    config.store.path = Some(path.to_path_buf());
    // As the desk does (tui::run): the store is opened, checked if it was not closed
    // cleanly, and migrated once before the workers open it.
    drop(Store::open(path)?);
    let (req_tx, req_rx) = mpsc::channel();
    let (ev_tx, ev_rx) = mpsc::channel();
    worker::spawn_store_worker(path.to_path_buf(), config.clone(), req_rx, ev_tx);
    let mut bench = Bench {
        state: initial_state(&config, Utc::now()),
        terminal: Terminal::new(TestBackend::new(160, 45))?,
        requests: req_tx,
        events: ev_rx,
    };
    let out = update(
        &mut bench.state,
        Action::Resize {
            width: 160,
            height: 45,
        },
    );
    bench.send(out);
    bench.settle_and_draw();
    let first_frame = started.elapsed();
    println!(
        "reports in Needs triage           {}",
        bench.state.queue.page.total
    );
    println!("time to first frame                {}", ms(first_frame));

    let mut scroll = Vec::new();
    for _ in 0..300 {
        scroll.push(bench.press(KeyCode::Char('j')));
    }
    for _ in 0..40 {
        scroll.push(bench.press(KeyCode::PageDown));
    }
    scroll.push(bench.press(KeyCode::Char('G')));
    for _ in 0..40 {
        scroll.push(bench.press(KeyCode::PageUp));
    }
    scroll.push(bench.press(KeyCode::Char('g')));
    report("scrolling (j, PgDn, PgUp, G, g)", scroll);

    let mut filter = Vec::new();
    for _ in 0..3 {
        for _ in 0..7 {
            filter.push(bench.press(KeyCode::Tab));
        }
    }
    report("filtering (Tab through 7 queues)", filter);
    let mut sort = Vec::new();
    for _ in 0..6 {
        sort.push(bench.press(KeyCode::Char('o')));
    }
    report("sorting (o: age <-> deadline)", sort);

    let mut search = Vec::new();
    for word in ["overflow", "tarfile symlink", "bitcoin"] {
        bench.press(KeyCode::Char('/'));
        for c in word.chars() {
            search.push(bench.press(KeyCode::Char(c)));
        }
        search.push(bench.press(KeyCode::Enter));
        println!(
            "  search {word:?}: {} reports",
            bench.state.queue.page.total
        );
        bench.press(KeyCode::Esc);
    }
    report("searching (typed, per keystroke)", search);

    let rss_kb = peak_rss_kb();
    println!(
        "peak RSS                           {:.1} MB",
        rss_kb as f64 / 1024.0
    );
    Ok(())
}

fn peak_rss_kb() -> i64 {
    // SAFETY: getrusage writes into the struct we pass and reads nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss
}
