//! Getting a password from `password_command` (an argv, never a shell) or `password_env`.
//!
//! A [`Secret`] never prints itself: not in `Debug`, not in errors.

use std::process::{Command, Stdio};

pub use crate::core::secret::Secret;

/// Why no password could be had. None of these messages carries the password.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{section}.password_command {program:?} could not be started: {source}; check the program name in the config")]
    Spawn {
        section: String,
        program: String,
        source: std::io::Error,
    },
    #[error("{section}.password_command {program:?} failed ({status}); run it by hand to see why")]
    Failed {
        section: String,
        program: String,
        status: String,
    },
    #[error("{section}.password_command {program:?} printed no password")]
    Empty { section: String, program: String },
    #[error(
        "{section}.password_env names ${var}, which is not set: export it before running secdesk"
    )]
    EnvMissing { section: String, var: String },
    #[error("no password configured for [{section}]: set {section}.password_command or {section}.password_env")]
    NotConfigured { section: String },
}

/// The IMAP password: inline (from a private config file), from the command, or from the
/// environment.
pub fn imap_password(c: &crate::core::config::ImapConfig) -> Result<Secret, SecretError> {
    match &c.password {
        Some(p) => Ok(p.clone()),
        None => resolve(
            "imap",
            c.password_command.as_deref(),
            c.password_env.as_deref(),
        ),
    }
}

/// The SMTP password, or `None` when the relay needs no login.
pub fn smtp_password(c: &crate::core::config::SmtpConfig) -> Result<Option<Secret>, SecretError> {
    if let Some(p) = &c.password {
        return Ok(Some(p.clone()));
    }
    if c.password_command.is_none() && c.password_env.is_none() {
        return Ok(None);
    }
    resolve(
        "smtp",
        c.password_command.as_deref(),
        c.password_env.as_deref(),
    )
    .map(Some)
}

/// Resolves the password for config section `section` (`imap` or `smtp`).
pub fn resolve(
    section: &str,
    command: Option<&[String]>,
    env: Option<&str>,
) -> Result<Secret, SecretError> {
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(SecretError::EnvMissing {
                section: section.into(),
                var: var.into(),
            }),
        };
    }
    let Some((program, args)) = command.and_then(|c| c.split_first()) else {
        return Err(SecretError::NotConfigured {
            section: section.into(),
        });
    };
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| SecretError::Spawn {
            section: section.into(),
            program: program.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(SecretError::Failed {
            section: section.into(),
            program: program.clone(),
            status: output.status.to_string(),
        });
    }
    // Like pass(1) and most password managers: the first line is the password.
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or("").to_string();
    if first.is_empty() {
        return Err(SecretError::Empty {
            section: section.into(),
            program: program.clone(),
        });
    }
    Ok(Secret::new(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_first_line_is_the_password_and_no_shell_is_used() {
        let argv = vec![
            "printf".to_string(),
            "hunter2\\nsecond; echo $HOME".to_string(),
        ];
        let s = resolve("imap", Some(&argv), None).unwrap();
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
    }

    #[test]
    fn failures_name_the_key_not_the_secret() {
        let argv = vec!["false".to_string()];
        let e = resolve("imap", Some(&argv), None).unwrap_err().to_string();
        assert!(e.contains("imap.password_command"), "{e}");
        let e = resolve("smtp", None, Some("SECDESK_SURELY_UNSET_VAR"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("SECDESK_SURELY_UNSET_VAR"), "{e}");
        let argv = vec!["/nonexistent/prog".to_string()];
        assert!(resolve("imap", Some(&argv), None).is_err());
    }
}
