//! `[pgp]`: where the team's keyring is and what gpg may spend. Every key is explained in
//! `config.example.toml`.

use std::path::PathBuf;

use serde::Deserialize;

/// `[pgp]`: decrypting and verifying reports, encrypting replies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PgpConfig {
    /// The keyring gpg runs with (`GNUPGHOME`): the team's secret key and reporters' public keys.
    /// Once parsed, `~` is expanded and a relative path is taken from the config file's folder.
    pub gnupg_home: PathBuf,
    /// The team key's fingerprint: replies are signed with it and the Sent copy of an
    /// encrypted reply is encrypted to it too.
    pub team_key: Option<String>,
    #[serde(default)]
    pub encrypt_replies: EncryptReplies,
    /// Seconds one gpg run may take before it is stopped.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Megabytes one gpg run may output (a decompression bomb stops here).
    #[serde(default = "default_max_output_mb")]
    pub max_output_mb: u64,
}

/// `encrypt_replies`: whether replies are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptReplies {
    /// Replies are sent as written.
    #[default]
    Never,
    /// Encrypted (and signed with `team_key`) when every recipient's key is in the keyring.
    WhenPossible,
}

fn default_timeout_seconds() -> u64 {
    10
}
fn default_max_output_mb() -> u64 {
    20
}

impl PgpConfig {
    /// Checks the keys, in words naming the key and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.gnupg_home.as_os_str().is_empty() {
            return Err("key `pgp.gnupg_home` is empty: name the team keyring's folder".into());
        }
        if self.timeout_seconds == 0 || self.max_output_mb == 0 {
            return Err(
                "keys `pgp.timeout_seconds` and `pgp.max_output_mb` must be above 0".into(),
            );
        }
        if let Some(k) = &self.team_key {
            let hex = k.replace(' ', "");
            if !matches!(hex.len(), 40 | 64) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "key `pgp.team_key` is {k:?}: give the team key's full fingerprint (40 hex digits, `gpg --list-secret-keys --with-colons` shows it)"
                ));
            }
        }
        if self.encrypt_replies == EncryptReplies::WhenPossible && self.team_key.is_none() {
            return Err("key `pgp.team_key` is missing: `encrypt_replies = \"when-possible\"` signs replies and encrypts the Sent copy with it".into());
        }
        Ok(())
    }

    /// The team key's fingerprint without spaces.
    pub fn team_fingerprint(&self) -> Option<String> {
        self.team_key.as_ref().map(|k| k.replace(' ', ""))
    }
}

#[cfg(test)]
mod tests {
    use crate::core::config::Config;

    fn parse(pgp: &str) -> Result<Config, String> {
        let text = format!("[identity]\nname = \"n\"\nemail = \"n@x\"\n\n[pgp]\n{pgp}\n");
        Config::parse(&text, std::path::Path::new("c.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn pgp_keys_are_checked() {
        let c = parse("gnupg_home = \"/k\"").unwrap();
        let p = c.pgp.unwrap();
        assert_eq!((p.timeout_seconds, p.max_output_mb), (10, 20));
        let e = parse("gnupg_home = \"/k\"\nencrypt_replies = \"when-possible\"").unwrap_err();
        assert!(e.contains("`pgp.team_key` is missing"), "{e}");
        let e = parse("gnupg_home = \"/k\"\nteam_key = \"ABCD\"").unwrap_err();
        assert!(e.contains("full fingerprint"), "{e}");
        let e = parse("gnupg_home = \"/k\"\nencrypt_replies = \"always\"").unwrap_err();
        assert!(e.contains("always"), "{e}");
    }
}
