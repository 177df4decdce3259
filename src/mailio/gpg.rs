//! Running `gpg` for the desk: decrypting and verifying reports, encrypting replies.
//!
//! gpg is run by argv (never a shell) with `--batch`, `--no-tty`, `--status-fd 2` (its
//! machine-readable `[GNUPG:]` lines, doc/DETAILS) and `GNUPGHOME` from `[pgp] gnupg_home`.
//! Every run is bounded: hostile input (huge or deeply nested packets, a decompression bomb,
//! malformed armour) is stopped after `[pgp] timeout_seconds` or `max_output_mb` of output,
//! and the child is killed. `--pinentry-mode error` makes a key that needs a passphrase fail
//! at once instead of waiting for someone to type it.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::core::config::Config;
use crate::core::pgp::keys::{self, KeyInfo};
use crate::core::pgp::{mime, EncryptReplies, EngineRun, PgpConfig, PgpEngine};
use crate::mailio::process;

/// The most input one run is given: larger ciphertext is not decrypted.
const MAX_INPUT: usize = 64 * 1024 * 1024;
/// The most status and log text kept from one run.
const MAX_STATUS: usize = 1024 * 1024;

/// gpg with the team keyring and the limits of `[pgp]`.
#[derive(Debug, Clone)]
pub struct Gpg {
    program: PathBuf,
    home: PathBuf,
    timeout: Duration,
    max_output: usize,
}

impl Gpg {
    pub fn from_config(pgp: &PgpConfig) -> Gpg {
        Gpg {
            program: "gpg".into(),
            home: pgp.gnupg_home.clone(),
            timeout: Duration::from_secs(pgp.timeout_seconds),
            max_output: usize::try_from(pgp.max_output_mb)
                .unwrap_or(usize::MAX / (1024 * 1024))
                .saturating_mul(1024 * 1024),
        }
    }

    /// The same keyring with other limits (tests of the limits).
    pub fn with_limits(mut self, timeout: Duration, max_output: usize) -> Gpg {
        self.timeout = timeout;
        self.max_output = max_output;
        self
    }

    /// Runs gpg with `args` after the fixed ones, `input` on stdin, within the limits.
    pub fn run(&self, args: &[OsString], input: &[u8]) -> EngineRun {
        if input.len() > MAX_INPUT {
            return stopped(format!(
                "the OpenPGP data is {} MB, over the {} MB limit",
                input.len() >> 20,
                MAX_INPUT >> 20
            ));
        }
        let mut cmd = Command::new(&self.program);
        cmd.env("GNUPGHOME", &self.home)
            .args([
                "--batch",
                "--no-tty",
                "--status-fd",
                "2",
                "--pinentry-mode",
                "error",
                "--no-auto-key-retrieve",
                "--no-auto-key-locate",
                "--no-greeting",
            ])
            .args(args);
        let run = match process::run(&mut cmd, input, self.timeout, self.max_output, MAX_STATUS) {
            Ok(r) => r,
            Err(e) => {
                return stopped(format!(
                    "gpg could not be started: {e}; install GnuPG (`gpg`) or remove [pgp] from the config"
                ))
            }
        };
        let stopped_why = if run.over {
            Some(format!(
                "its output passed the {} MB limit (`[pgp] max_output_mb`; a decompression bomb?)",
                self.max_output >> 20
            ))
        } else if run.timed_out {
            Some(format!(
                "it took longer than {} s (`[pgp] timeout_seconds`)",
                self.timeout.as_secs()
            ))
        } else {
            None
        };
        EngineRun {
            status: String::from_utf8_lossy(&run.stderr).into_owned(),
            output: run.stdout,
            stopped: stopped_why,
        }
    }

    /// The keys the keyring holds with a user id naming `address`
    /// (`gpg --list-keys '<ADDRESS>'`), or why gpg could not be asked (not installed, stopped).
    pub fn keys_for(&self, address: &str) -> Result<Vec<KeyInfo>, String> {
        let run = self.run(
            &[
                "--with-colons".into(),
                "--list-keys".into(),
                "--".into(),
                format!("<{address}>").into(),
            ],
            b"",
        );
        if let Some(why) = run.stopped {
            return Err(why);
        }
        Ok(keys::read_colons(&String::from_utf8_lossy(&run.output)))
    }

    /// The fingerprints of every key for `address` a reply can be encrypted to: valid (not
    /// expired, revoked, disabled, invalid) and able to encrypt.
    pub fn encryption_keys(&self, address: &str) -> Result<Vec<String>, String> {
        Ok(self
            .keys_for(address)?
            .into_iter()
            .filter(|k| k.unusable().is_none() && k.can_encrypt && !k.fingerprint.is_empty())
            .map(|k| k.fingerprint)
            .collect())
    }

    /// The addresses in `recipients` with no usable encryption key in the keyring, or why
    /// gpg could not be asked (not installed, stopped).
    pub fn missing_keys(&self, recipients: &[String]) -> Result<Vec<String>, String> {
        let mut missing = Vec::new();
        for r in recipients {
            if self.encryption_keys(r)?.is_empty() {
                missing.push(r.clone());
            }
        }
        Ok(missing)
    }

    /// Encrypts `raw` (a message we built) to `recipients` and the team key, signed with the
    /// team key, as PGP/MIME (RFC 3156 §4, combined signing and encryption §6.2).
    ///
    /// Each recipient is named by the fingerprint of every valid key its address has: given
    /// the address, gpg takes the first matching key in the keyring and silently leaves out
    /// the others, so an address with two keys (a reporter's old and new one) would be
    /// encrypted to whichever was imported first.
    pub fn seal(
        &self,
        raw: &[u8],
        recipients: &[String],
        team_key: &str,
    ) -> Result<Vec<u8>, String> {
        let (outer, inner) = mime::split_for_sealing(raw);
        let mut args: Vec<OsString> = vec![
            "--trust-model".into(),
            "always".into(),
            "--armor".into(),
            "--local-user".into(),
            team_key.into(),
            "--encrypt".into(),
            "--sign".into(),
            "--recipient".into(),
            team_key.into(),
        ];
        for r in recipients {
            let fingerprints = self.encryption_keys(r).map_err(|why| {
                format!(
                    "the reply could not be encrypted: the keys of {r} could not be listed: {why}"
                )
            })?;
            if fingerprints.is_empty() {
                return Err(format!(
                    "the reply could not be encrypted: no usable key in the keyring for {r}"
                ));
            }
            for fpr in fingerprints {
                args.push("--recipient".into());
                args.push(fpr.into());
            }
        }
        let run = self.run(&args, &inner);
        if let Some(why) = run.stopped {
            return Err(format!("gpg was stopped: {why}"));
        }
        let ok = run
            .status
            .lines()
            .any(|l| l.starts_with("[GNUPG:] END_ENCRYPTION"));
        if !ok || run.output.is_empty() {
            let why = run
                .status
                .lines()
                .find(|l| l.starts_with("[GNUPG:] INV_RECP") || l.starts_with("[GNUPG:] INV_SGNR"))
                .map(|_| "a recipient's key or the team key cannot be used")
                .unwrap_or("gpg did not encrypt it");
            return Err(format!("the reply could not be encrypted: {why}"));
        }
        let boundary = format!("pgp-{:016x}", fnv(&run.output));
        Ok(mime::sealed(&outer, &run.output, &boundary))
    }
}

/// Whether a reply to `recipients` is encrypted, as `[pgp] encrypt_replies` and the keyring say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealing {
    /// No `[pgp]`, or `encrypt_replies = "never"`.
    Off,
    /// Encrypted to every recipient and the team key, signed with the team key.
    Encrypted { team_key: String },
    /// Sent as written: these recipients have no key in the keyring.
    Plain { missing: Vec<String> },
    /// Sent as written: gpg could not be asked about the keys (not installed, stopped).
    NoGpg { why: String },
}

impl Sealing {
    /// One line for the preview; `None` when encryption is off. Why it goes readable is
    /// [`Sealing::readable_because`]'s words.
    pub fn line(&self) -> Option<String> {
        match self {
            Sealing::Off => None,
            Sealing::Encrypted { .. } => Some(
                "Encrypted: yes, to every recipient and the team key, signed with the team key (PGP/MIME)".into(),
            ),
            readable => readable
                .readable_because()
                .map(|why| format!("Encrypted: NO, sent readable: {why}")),
        }
    }
}

/// Decides whether a reply to `recipients` is encrypted.
pub fn sealing(config: &Config, recipients: &[String]) -> Sealing {
    let Some(pgp) = config.pgp.as_ref() else {
        return Sealing::Off;
    };
    let Some(team_key) = pgp.team_fingerprint() else {
        return Sealing::Off;
    };
    if pgp.encrypt_replies != EncryptReplies::WhenPossible {
        return Sealing::Off;
    }
    let missing = match Gpg::from_config(pgp).missing_keys(recipients) {
        Ok(missing) => missing,
        Err(why) => return Sealing::NoGpg { why },
    };
    if missing.is_empty() && !recipients.is_empty() {
        Sealing::Encrypted { team_key }
    } else {
        Sealing::Plain { missing }
    }
}

/// Why a reply is not sent as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// gpg was asked to encrypt it and failed.
    #[error("{0}; fix the keyring or set `[pgp] encrypt_replies = \"never\"`")]
    Failed(String),
    /// It must be encrypted (its report came encrypted, and nobody agreed to send it
    /// readable) but would go out readable, for the reason given.
    #[error("it would go out readable ({0}), though its report came encrypted")]
    Readable(String),
}

impl Sealing {
    /// Why a reply goes out readable; `None` when it is encrypted.
    pub fn readable_because(&self) -> Option<String> {
        match self {
            Sealing::Encrypted { .. } => None,
            Sealing::Off => Some(
                "replies are not encrypted: `[pgp] encrypt_replies` is not \"when-possible\" or there is no [pgp] section".into(),
            ),
            Sealing::Plain { missing } => Some(format!(
                "no key in the keyring for {}",
                missing.join(", ")
            )),
            Sealing::NoGpg { why } => Some(format!("the keys could not be checked: {why}")),
        }
    }
}

/// `raw` as it goes on the wire and into the Sent mailbox: encrypted when [`sealing`] says
/// so (the Sent copy is thus encrypted to the team key too), else unchanged, unless
/// `must_encrypt` (then a reply that would go readable is refused).
pub fn seal_reply(
    config: &Config,
    recipients: &[String],
    raw: Vec<u8>,
    must_encrypt: bool,
) -> Result<Vec<u8>, SealError> {
    match (sealing(config, recipients), config.pgp.as_ref()) {
        (Sealing::Encrypted { team_key }, Some(pgp)) => Gpg::from_config(pgp)
            .seal(&raw, recipients, &team_key)
            .map_err(SealError::Failed),
        (readable, _) => match readable.readable_because() {
            Some(why) if must_encrypt => Err(SealError::Readable(why)),
            _ => Ok(raw),
        },
    }
}

/// The engine ingest decrypts and verifies with, when `[pgp]` is configured.
pub fn engine(config: &Config) -> Option<Box<dyn PgpEngine>> {
    config
        .pgp
        .as_ref()
        .map(|p| Box::new(Gpg::from_config(p)) as Box<dyn PgpEngine>)
}

impl PgpEngine for Gpg {
    fn decrypt(&self, data: &[u8]) -> EngineRun {
        self.run(&["--decrypt".into()], data)
    }

    fn verify_detached(&self, signed: &[u8], signature: &[u8]) -> EngineRun {
        // The signature goes in a private temporary file, the signed data on stdin.
        let file = tempfile::NamedTempFile::new().and_then(|mut f| {
            f.write_all(signature)?;
            Ok(f)
        });
        match file {
            Ok(f) => self.run(&["--verify".into(), f.path().into(), "-".into()], signed),
            Err(e) => stopped(format!(
                "the signature could not be written to a temporary file: {e}"
            )),
        }
    }

    fn user_ids(&self, fingerprint: &str) -> Vec<String> {
        let run = self.run(
            &[
                "--with-colons".into(),
                "--list-keys".into(),
                "--".into(),
                fingerprint.into(),
            ],
            b"",
        );
        if run.stopped.is_some() {
            return Vec::new();
        }
        keys::read_colons(&String::from_utf8_lossy(&run.output))
            .into_iter()
            .filter(|k| k.fingerprint.eq_ignore_ascii_case(fingerprint))
            .flat_map(|k| k.uids)
            .collect()
    }
}

/// A run that did not happen.
fn stopped(why: String) -> EngineRun {
    EngineRun {
        stopped: Some(why),
        ..EngineRun::default()
    }
}

/// A boundary that cannot occur in the armoured text it encloses (armour is base64 and
/// headers; the boundary has a `-` after `pgp`, which base64 lacks).
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
