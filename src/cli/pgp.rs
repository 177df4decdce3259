//! `secdesk pgp import-key ID [--yes]`: import the public key a reporter attached to a
//! report into the team keyring (`[pgp] gnupg_home`), after showing its fingerprint and
//! user ids and asking y/N (issue 16). Replies to that reporter can then be encrypted
//! (`[pgp] encrypt_replies = "when-possible"`).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use crate::core::pgp::keys::{grouped, KeyInfo};
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
    /// With --yes: also import a key for an address that already has another key in the
    /// keyring (replies are then encrypted to both). Without it such a key is not imported.
    #[arg(long)]
    pub second_key: bool,
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
    let imported = import_each(&config, &offers, &args)?;
    if importable == 0 {
        anyhow::bail!(
            "report #{}: no attached key can be imported (see above)",
            args.id
        );
    }
    say_what_imports_do(&imported);
    if let Some(offer) = offers.iter().find(|o| refused_second_key(o, &args)) {
        anyhow::bail!(
            "report #{}: not imported a second key for {}: check its fingerprint with the reporter, then run again with --yes --second-key (or delete the old key from the keyring with gpg first)",
            args.id,
            crate::core::sanitize::terminal_line(&offer.from)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A second key for an address that `--yes` alone does not import.
fn refused_second_key(offer: &Offer, args: &ImportArgs) -> bool {
    offer.problem.is_none() && !offer.already.is_empty() && args.yes && !args.second_key
}

/// Shows each offer and imports those confirmed: the keys imported.
fn import_each(
    config: &crate::core::config::Config,
    offers: &[Offer],
    args: &ImportArgs,
) -> anyhow::Result<Vec<KeyInfo>> {
    let mut imported = Vec::new();
    for offer in offers {
        print_offer(offer)?;
        if offer.problem.is_some() {
            continue;
        }
        if refused_second_key(offer, args) {
            println!("  not imported: it would be a second key (--second-key imports it)");
            continue;
        }
        let question = if offer.already.is_empty() {
            "Import into the team keyring?"
        } else {
            "Import it as a SECOND key for this address?"
        };
        if !args.yes && !ask(question)? {
            println!("  not imported");
            continue;
        }
        let done = pgp_keys::import(config, offer)
            .map_err(|e| anyhow::anyhow!("report #{}: {e}", args.id))?;
        for fpr in &done {
            let key = offer.keys.iter().find(|k| &k.fingerprint == fpr);
            match key.and_then(KeyInfo::unusable) {
                Some(why) => println!("  imported {} ({why}: it cannot encrypt)", grouped(fpr)),
                None => println!("  imported {}", grouped(fpr)),
            }
            imported.extend(key.cloned());
        }
    }
    Ok(imported)
}

/// The closing line: whether replies can now be encrypted, which only a usable key gives.
fn say_what_imports_do(imported: &[KeyInfo]) {
    if imported.is_empty() {
        println!("nothing imported");
    } else if imported.iter().any(|k| k.unusable().is_none()) {
        println!("replies to these keys' addresses can now be encrypted ([pgp] encrypt_replies = \"when-possible\")");
    } else {
        let mut states: Vec<&str> = imported.iter().filter_map(KeyInfo::unusable).collect();
        states.sort_unstable();
        states.dedup();
        println!(
            "the imported key is {}, so replies cannot be encrypted to it: ask the reporter for a current key",
            states.join(", ")
        );
    }
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
