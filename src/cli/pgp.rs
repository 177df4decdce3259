//! `secdesk pgp import-key ID [--yes]`: import the public key a reporter attached to a
//! report into the team keyring (`[pgp] gnupg_home`), after showing its fingerprint and
//! user ids and asking y/N (issue 16). Replies to that reporter can then be encrypted
//! (`[pgp] encrypt_replies = "when-possible"`).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use crate::core::pgp::keys::grouped;
use crate::mailio::pgp_keys::{self, Offer};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PgpCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PgpCommand {
    /// Import the public key(s) attached to a report into the team keyring, after showing
    /// each key's fingerprint and user ids and asking y/N.
    ImportKey(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The report whose attached key to import (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// Import without asking (the keys are still listed first).
    #[arg(short, long)]
    pub yes: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let PgpCommand::ImportKey(args) = args.command;
    // Without a keyring to import into, the config is what must change (exit 78), as for
    // `sync` without [imap] and `held` without [mailman]: said before the store is read.
    let config = ctx.config()?;
    if config.pgp.is_none() {
        return Err(crate::core::config::ConfigError::Invalid {
            path: config.source.clone(),
            message:
                "it has no [pgp] section: name the team keyring (gnupg_home) to import keys into"
                    .to_string(),
        }
        .into());
    }
    let (config, store) = ctx.read_store_of(config)?;
    crate::core::triage::writes::load(store.conn(), args.id)?;
    let offers = pgp_keys::offers(&config, store.conn(), args.id).map_err(anyhow::Error::msg)?;
    if offers.is_empty() {
        anyhow::bail!(
            "report #{} has no public key attached (an application/pgp-keys attachment, or a file holding a PUBLIC KEY BLOCK); ask the reporter for theirs",
            args.id
        );
    }
    let importable = offers.iter().filter(|o| o.problem.is_none()).count();
    if importable > 0 && !args.yes && !std::io::stdin().is_terminal() {
        for offer in &offers {
            print_offer(offer)?;
        }
        anyhow::bail!(
            "not importing the key(s) of report #{}: an import needs a confirmation and stdin is not a terminal; check the fingerprint(s) above, then pass --yes",
            args.id
        );
    }
    let mut imported = 0;
    for offer in &offers {
        print_offer(offer)?;
        if offer.problem.is_some() {
            continue;
        }
        if !args.yes && !ask("Import into the team keyring?")? {
            println!("  not imported");
            continue;
        }
        let done = pgp_keys::import(&config, offer)
            .map_err(|e| anyhow::anyhow!("report #{}: {e}", args.id))?;
        for fpr in &done {
            println!("  imported {}", grouped(fpr));
        }
        imported += done.len();
    }
    if importable == 0 {
        anyhow::bail!(
            "report #{}: no attached key can be imported (see above)",
            args.id
        );
    }
    if imported == 0 {
        println!("nothing imported");
    } else {
        println!("replies to these keys' addresses can now be encrypted ([pgp] encrypt_replies = \"when-possible\")");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_offer(offer: &Offer) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for line in offer.describe() {
        writeln!(out, "{line}")?;
    }
    out.flush()
}

/// Asks y/N on the terminal; anything but yes is no.
fn ask(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
