//! A private tmux server for one end-to-end test: the real binary in a real terminal, keys
//! sent with `send-keys`, the screen read with `capture-pane`. Killed when the test ends.
#![allow(dead_code)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    /// How long `wait_for` waits before failing with the screen.
    pub patience: Duration,
}

impl Tmux {
    /// Starts `command` (a shell line) in a `width` x `height` pane that stays after it exits.
    /// With set-clipboard on, an OSC 52 that reached the terminal would create a buffer.
    pub fn start(name: &str, command: &str, width: u16, height: u16) -> Tmux {
        let t = Tmux {
            socket: format!("secdesk-{name}-{}", std::process::id()),
            patience: Duration::from_secs(30),
        };
        let (w, h) = (width.to_string(), height.to_string());
        let out = t.run(&[
            "new-session",
            "-d",
            "-x",
            &w,
            "-y",
            &h,
            command,
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

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is installed")
    }

    /// Sends each key (tmux key names: "Enter", "Escape", or a character).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    pub fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    /// A tmux format of the pane, e.g. `#{pane_title}`.
    pub fn format(&self, f: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "0", f]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until `ok` holds for the screen; panics with the screen (saying `what` was
    /// awaited) if it never does.
    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if ok(&screen) {
                return screen;
            }
            if start.elapsed() > self.patience {
                panic!("{what} never happened; the pane shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the pane shows `needle`.
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_until(&format!("{needle:?} on screen"), |s| s.contains(needle))
    }

    /// Waits until the program in the pane has exited.
    pub fn wait_dead(&self) {
        let start = Instant::now();
        loop {
            if self.format("#{pane_dead}") == "1" {
                return;
            }
            assert!(start.elapsed() < self.patience, "the program did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
