//! End to end: the real binary in a real terminal (tmux), on a demo database. Opens a
//! report, marks it, quits, and checks the store; and shows that hostile mail cannot reach
//! the terminal (no OSC 52 clipboard write, no title change, no raw control bytes).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use secdesk::core::store::Store;

/// One private tmux server per test, killed when the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, command: &str, width: u16, height: u16) -> Tmux {
        let t = Tmux {
            socket: format!("secdesk-{name}-{}", std::process::id()),
        };
        // set-clipboard on: an OSC 52 that reached the terminal would create a buffer.
        let out = t.run(&[
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            command,
            ";",
            "set",
            "-g",
            "set-clipboard",
            "on",
            ";",
            "set",
            "-g",
            "remain-on-exit",
            "on",
        ]);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is installed")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    fn format(&self, f: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "0", f]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until the pane shows `needle`; panics with the screen if it never does.
    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if screen.contains(needle) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(10) {
                panic!("{needle:?} never appeared; the pane shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_dead(&self) {
        let start = Instant::now();
        while self.format("#{pane_dead}") != "1" {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the desk did not quit"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn desk_command(db: &Path) -> String {
    format!(
        "{} demo --db {}",
        env!("CARGO_BIN_EXE_secdesk"),
        db.display()
    )
}

fn state_of(db: &Path, id: i64) -> String {
    Store::open(db)
        .unwrap()
        .conn()
        .query_row("SELECT state FROM reports WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
}

#[test]
fn open_a_report_mark_it_quit_and_the_store_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let tmux = Tmux::start("mark", &desk_command(&db), 160, 45);
    tmux.wait_for("1 of 12 ");
    // Find the zipfile report and open it.
    tmux.keys(&["/", "zipfile", "Enter"]);
    tmux.wait_for("1 of 1 ");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Thread (1 item)");
    tmux.keys(&["i"]);
    tmux.wait_for("Invalid because");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("marked invalid");
    assert!(
        screen.contains("#3 marked invalid (not a vulnerability)"),
        "{screen}"
    );
    // Back to the queue, quit.
    tmux.keys(&["q", "q"]);
    tmux.wait_dead();
    assert_eq!(state_of(&db, 3), "invalid");
}

#[test]
fn hostile_mail_shows_inert_and_touches_neither_clipboard_nor_title() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let tmux = Tmux::start("hostile", &desk_command(&db), 160, 45);
    tmux.wait_for("1 of 12 ");
    let title = tmux.format("#{pane_title}");
    // The classifier is unsure of the hostile mail: it waits in Needs triage.
    tmux.keys(&["/", "clipboard", "Enter"]);
    tmux.wait_for("1 of 1 ");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("verified sender");
    assert!(
        !screen.chars().any(|c| c.is_control() && c != '\n'),
        "a raw control character reached the pane:\n{screen}"
    );
    assert!(
        !screen.contains('\u{202e}'),
        "a bidi override reached the pane"
    );
    assert!(
        screen.contains("␛]52;c;"),
        "the OSC 52 attempt is shown inert"
    );
    let buffers = tmux.run(&["list-buffers"]);
    assert_eq!(
        String::from_utf8_lossy(&buffers.stdout).trim(),
        "",
        "an OSC 52 clipboard write reached tmux"
    );
    assert_eq!(
        tmux.format("#{pane_title}"),
        title,
        "the pane title changed"
    );
    // Back to the queue, quit.
    tmux.keys(&["q", "q"]);
    tmux.wait_dead();
}

#[test]
fn first_run_without_config_explains_instead_of_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_secdesk"))
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    assert!(
        err.contains("config.example.toml") && err.contains("secdesk demo"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn without_a_terminal_the_desk_says_so_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_secdesk"))
        .args(["demo", "--db"])
        .arg(dir.path().join("demo.db"))
        .stdout(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("needs a terminal") && err.contains("demo --list"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
