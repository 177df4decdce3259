//! The command line: argument parsing and dispatch. Each command lives in its own file and
//! calls the same core functions as the TUI. Data goes to stdout, diagnostics to stderr.

mod advisory;
mod assign;
mod backup;
mod change;
mod check;
mod classify;
pub mod demo;
pub mod desk;
mod dup;
mod eval;
pub mod exit;
mod export;
mod held;
mod import;
mod list;
mod log;
mod mark;
mod note;
mod notice;
mod outbox;
mod output;
mod pgp;
pub mod reply;
mod responded;
mod save;
mod show;
mod state;
mod stats;
mod stats_year;
mod store;
mod sync;
mod take;
mod team;
mod train;
mod unassign;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::core::config::{self, Config};
use crate::core::store::{upgrade_pending, Store, StoreError};

/// An upgrade of a store of at least this many bytes is announced before it runs (about a
/// second for every 20 MB, measured on stores of 75 and 373 MB).
const UPGRADE_NOTICE_FROM: u64 = 20_000_000;

/// A terminal triage desk for security response teams.
///
/// Pulls the security@ mailbox over IMAP into a local SQLite store, classifies each message
/// as spam, invalid or valid, and tracks each report through triage.
#[derive(Debug, Parser)]
#[command(name = "secdesk", version, propagate_version = true)]
pub struct Cli {
    /// Config file [default: $XDG_CONFIG_HOME/secdesk/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch new mail from the IMAP mailboxes into the store.
    ///
    /// Every UID the server lists is stored, or named on stderr and recorded as missing
    /// (the next sync asks again); any gap, refused answer or count that does not add up
    /// makes the command exit non-zero.
    Sync(sync::Args),
    /// Import an mbox file, a Maildir, or a folder of .eml files.
    Import(import::Args),
    /// List reports, newest first.
    List(list::Args),
    /// Show one report: its thread, team notes, links, clocks and audit log.
    Show(show::Args),
    /// Confirm a report's class: spam or invalid also close it; valid acknowledges it.
    Mark(mark::Args),
    /// Move a report to another state of the triage lifecycle.
    State(state::Args),
    /// Make a team member the report's coordinator.
    Assign(assign::Args),
    /// Become the report's coordinator.
    Take(take::Args),
    /// Leave the report without a coordinator.
    Unassign(unassign::Args),
    /// Add a team note to a report (never sent to the reporter).
    Note(note::Args),
    /// Record a first response given outside secdesk (--via phone|other).
    Responded(responded::Args),
    /// Close a report as a duplicate of another.
    Dup(dup::Args),
    /// Show a report's audit log.
    Log(log::Args),
    /// Team figures for a period: counts, intake, response times, clocks.
    Stats(stats::Args),
    /// Reply to a report's reporter: template, editor, preview, then send.
    Reply(reply::Args),
    /// Replies not yet sent, with their errors; --retry sends them now.
    Outbox(outbox::Args),
    /// Open the desk on the bundled demo mailbox, in a temporary database.
    Demo(demo::Args),
    /// Save a report's attachments into a folder (names are made safe; nothing is overwritten).
    Save(save::Args),
    /// Train the classifier on folders of labelled messages (DIR/spam, ham, invalid, valid).
    Train(train::Args),
    /// Classify message files and print class, score and reasons; stores nothing.
    Classify(classify::Args),
    /// Measure the classifier on folders of labelled messages (held-out splits and replays train in memory); never changes the store.
    Eval(eval::Args),
    /// The list's hold queue (Mailman 3): list, accept, discard, reject, defer, sweep spam.
    Held(held::Args),
    /// Copy the store into a new file, consistently, while desks keep working.
    Backup(backup::Args),
    /// Check the store file: whole, private, secdesk's, references intact, every raw message
    /// readable; and name the mail a sync saw on the server and could not store yet.
    Check(check::Args),
    /// Show where the store's space goes: `secdesk store --stats [--json]`.
    Store(store::Args),
    /// Show or set a report's advisory fields (--set KEY=VALUE, --unset KEY, --edit, --json).
    Advisory(advisory::Args),
    /// Export a report's advisory: OSV, CVE JSON 5.1, GHSA request body, or the announce mail.
    Export(export::Args),
    /// Send an embargoed notification (--template embargo) to distributors.
    Notice(notice::Args),
    /// OpenPGP: `pgp import-key ID [--yes]` imports the public key a reporter attached.
    Pgp(pgp::Args),
}

/// What every command may need: the config (loaded on demand) and the store.
pub struct Context {
    pub config_path: PathBuf,
    explicit_config: bool,
    /// The store this command opened (or tried to), so an error can name it.
    store_path: RefCell<Option<PathBuf>>,
}

impl Context {
    pub fn new(config: Option<PathBuf>) -> Context {
        let explicit_config = config.is_some();
        Context {
            config_path: config.unwrap_or_else(config::default_config_path),
            explicit_config,
            store_path: RefCell::new(None),
        }
    }

    /// Loads the config; a missing default config explains where it looked and what to do.
    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.config_path)?)
    }

    /// Opens the store named by the config, to read and write: a damaged store is refused.
    pub fn store(&self) -> anyhow::Result<(Config, Store)> {
        let config = self.config()?;
        let store = self.open_store(&config.store_path(), Store::open)?;
        Ok((config, store))
    }

    /// The store's path, when there is a store there. A command that only reads never
    /// creates the store: a mistyped `[store] path` would otherwise show (or back up) an empty
    /// store that a script cannot tell from an empty mailbox.
    pub fn existing_store(&self, config: &Config) -> anyhow::Result<PathBuf> {
        let path = config.store_path();
        if !path.exists() {
            self.remember_store(&path);
            return Err(StoreError::Missing { path }.into());
        }
        Ok(path)
    }

    /// Opens the store for a command that only reads: a damaged store opens read-only,
    /// with a notice saying how to recover.
    pub fn read_store(&self) -> anyhow::Result<(Config, Store)> {
        self.read_store_of(self.config()?)
    }

    /// [`Context::read_store`] with the config already loaded (a command that checks the
    /// config before it reads the store).
    pub fn read_store_of(&self, config: Config) -> anyhow::Result<(Config, Store)> {
        let path = self.existing_store(&config)?;
        let store = self.open_store(&path, Store::open_for_reading)?;
        if let Some(detail) = store.damage() {
            output::notice(&format!(
                "the store {} is damaged ({detail}); it is open read-only: run `secdesk check`; recover what it holds with `secdesk backup NEW_FILE`",
                store.path().display()
            ));
        }
        Ok((config, store))
    }

    /// The classifier for a command that classifies and stores nothing (`classify`, `eval`):
    /// the store's, read without creating it; with no store at the configured path, the
    /// starter model, said on stderr (a mistyped path would otherwise pass for the team's
    /// training).
    pub fn classifier(&self, config: &Config) -> anyhow::Result<crate::core::classify::Classifier> {
        if !config.store_path().exists() {
            output::notice(&format!(
                "there is no store at {} yet, so this classifies with the starter model, not what the team has taught it; if the store should be there, check [store] path in the config",
                config.store_path().display()
            ));
            return Ok(crate::core::classify::starter_classifier(Some(
                &config.dir(),
            ))?);
        }
        let (_, mut store) = self.read_store_of(config.clone())?;
        let classifier = crate::core::classify::load_classifier(&mut store, Some(&config.dir()))?;
        Ok(classifier)
    }

    /// On a damaged store, "no report #N" may be the damage's doing: said so, with what to do,
    /// instead of telling the user the number is wrong.
    pub fn in_damaged(store: &Store, id: i64, e: anyhow::Error) -> anyhow::Error {
        let missing = e.chain().any(|c| {
            matches!(
                c.downcast_ref::<crate::core::triage::TriageError>(),
                Some(crate::core::triage::TriageError::NoSuchReport(_))
            ) || matches!(
                c.downcast_ref::<StoreError>(),
                Some(StoreError::NoSuchReport(_))
            )
        });
        match store.damage() {
            Some(detail) if missing => anyhow::anyhow!(
                "report #{id} could not be read: the store {} is damaged ({detail}), so it may hold it all the same; recover what it holds with `secdesk backup NEW_FILE`, then look again in the copy",
                store.path().display()
            ),
            _ => e,
        }
    }

    /// Opens `path` with `open`, remembering it for error lines and printing the notices.
    /// An upgrade of a large store is announced first, so a pause is not taken for a hang.
    pub fn open_store(
        &self,
        path: &Path,
        open: impl FnOnce(&Path) -> Result<Store, StoreError>,
    ) -> anyhow::Result<Store> {
        self.remember_store(path);
        if let Some(bytes) = upgrade_pending(path).filter(|&n| n >= UPGRADE_NOTICE_FROM) {
            output::notice(&format!(
                "upgrading the store {} ({} MB) for this version of secdesk: this runs once and can take a minute",
                path.display(),
                bytes / 1_000_000
            ));
        }
        let store = open(path)?;
        for n in store.notices() {
            output::notice(n);
        }
        Ok(store)
    }

    /// Remembers `path` as the store this command works on, for error lines.
    pub fn remember_store(&self, path: &Path) {
        self.store_path.replace(Some(path.to_path_buf()));
    }

    pub fn explicit_config(&self) -> bool {
        self.explicit_config
    }

    /// The store this command opened, if any: named in store error lines.
    pub fn store_path(&self) -> Option<PathBuf> {
        self.store_path.borrow().clone()
    }
}

/// Parses arguments, runs the command and turns any error into one line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Context::new(cli.config);
    let result = match cli.command {
        Some(Command::Sync(args)) => sync::run(&ctx, args),
        Some(Command::Import(args)) => import::run(&ctx, args),
        Some(Command::List(args)) => list::run(&ctx, args),
        Some(Command::Demo(args)) => demo::run(&ctx, args),
        Some(Command::Save(args)) => save::run(&ctx, args),
        Some(Command::Show(args)) => show::run(&ctx, args),
        Some(Command::Mark(args)) => mark::run(&ctx, args),
        Some(Command::State(args)) => state::run(&ctx, args),
        Some(Command::Assign(args)) => assign::run(&ctx, args),
        Some(Command::Take(args)) => take::run(&ctx, args),
        Some(Command::Responded(args)) => responded::run(&ctx, args),
        Some(Command::Unassign(args)) => unassign::run(&ctx, args),
        Some(Command::Note(args)) => note::run(&ctx, args),
        Some(Command::Dup(args)) => dup::run(&ctx, args),
        Some(Command::Log(args)) => log::run(&ctx, args),
        Some(Command::Stats(args)) => stats::run(&ctx, args),
        Some(Command::Reply(args)) => reply::run(&ctx, args),
        Some(Command::Outbox(args)) => outbox::run(&ctx, args),
        Some(Command::Train(args)) => train::run(&ctx, args),
        Some(Command::Classify(args)) => classify::run(&ctx, args),
        Some(Command::Eval(args)) => eval::run(&ctx, args),
        Some(Command::Held(args)) => held::run(&ctx, args),
        Some(Command::Backup(args)) => backup::run(&ctx, args),
        Some(Command::Check(args)) => check::run(&ctx, args),
        Some(Command::Store(args)) => store::run(&ctx, args),
        Some(Command::Advisory(args)) => advisory::run(&ctx, args),
        Some(Command::Export(args)) => export::run(&ctx, args),
        Some(Command::Notice(args)) => notice::run(&ctx, args),
        Some(Command::Pgp(args)) => pgp::run(&ctx, args),
        None => desk::run(&ctx),
    };
    match result {
        Ok(code) => code,
        // The reader of a pipe (`secdesk list | head -1`) has what it wanted: end quietly,
        // as `ls | head` does.
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            output::error_line(&e, ctx.store_path().as_deref());
            exit::status(&e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command that asks before acting takes `-y`, as `reply`, `outbox`, `export` and
    /// `notice` do; and ids are read as the desk shows them.
    #[test]
    fn confirmations_take_y_and_ids_take_a_hash() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map_err(|e| e.to_string());
        match parse(&["secdesk", "held", "sweep", "--class", "spam", "-y"])
            .unwrap()
            .command
        {
            Some(Command::Held(a)) => match a.command {
                Some(held::HeldCommand::Sweep(s)) => assert!(s.yes),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        match parse(&["secdesk", "pgp", "import-key", "#12", "-y"])
            .unwrap()
            .command
        {
            Some(Command::Pgp(a)) => {
                let pgp::PgpCommand::ImportKey(k) = a.command;
                assert_eq!((k.id, k.yes), (12, true));
            }
            other => panic!("{other:?}"),
        }
        // Options a subcommand does not have are refused by name.
        let err = parse(&["secdesk", "held", "accept", "3", "--comment", "x"]).unwrap_err();
        assert!(err.contains("--comment"), "{err}");
    }
}
