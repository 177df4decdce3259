//! `secdesk sync`: fetch new mail from the IMAP mailbox.

use std::process::ExitCode;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the summary line even when stdout is not a terminal.
    #[arg(long, short)]
    pub verbose: bool,
}

pub fn run(_ctx: &Context, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("sync is being written on the imap branch")
}
