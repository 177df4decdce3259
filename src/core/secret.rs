//! A password held in memory. It never prints itself: not in `Debug`, not in `Display`,
//! so it cannot leak into output, logs or errors by accident, and its bytes are overwritten
//! with zeros when it is dropped (the `zeroize` crate, so the compiler cannot elide the wipe).

use std::fmt;

use zeroize::Zeroize;

/// A password. Its `Debug` and `Display` print `***`; dropping it (or any clone) zeroes it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(s)
    }

    /// The password itself, for the one place that sends it to a server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// What a helper program (`password_command`, `oauth2_token_command`) wrote to stderr, as
/// one line, with what looks like a credential replaced by `[redacted]`: the helper's own
/// answer (`stdout`, its lines of 8 or more characters, e.g. a token printed before it
/// failed), a `Bearer`/`Basic` value, a JSON Web Token, a Google access or refresh token, and
/// the value of a `token`, `secret`, `password`, `key`, `code` or `assertion` field. The line
/// says why the helper failed; a credential would only leak into the desk's log and the
/// outbox's error column.
pub fn redact_credentials(stderr: &str, stdout: &str) -> String {
    use std::sync::OnceLock;
    static PATTERNS: OnceLock<Vec<(regex::Regex, &'static str)>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            (r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}", "$1$2[redacted]"),
            (
                r#"(?i)([a-z_-]*(?:token|secret|password|passwd|pwd|key|code|assertion)[a-z_-]*["']?\s*[:=]\s*["']?)[^\s"'&,;}]{4,}"#,
                "$1[redacted]",
            ),
            (r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*", "[redacted]"),
            (r"\bya29\.[A-Za-z0-9._-]+", "[redacted]"),
            (r"\b1//[A-Za-z0-9._-]{8,}", "[redacted]"),
        ]
        .into_iter()
        // Fixed patterns, tested below: they compile.
        .filter_map(|(re, with)| regex::Regex::new(re).ok().map(|re| (re, with)))
        .collect()
    });
    let mut text = stderr.to_string();
    for answer in stdout.lines().map(str::trim).filter(|l| l.len() >= 8) {
        text = text.replace(answer, "[redacted]");
    }
    for (re, with) in patterns {
        text = re.replace_all(&text, *with).into_owned();
    }
    text
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_helpers_stderr_are_redacted_and_the_reason_kept() {
        let said = "POST refresh_token=1//0gAbCdEfGh12&client_secret=GOCSPX-x1y2z3 \
                    Authorization: Bearer ya29.a0Afoo {\"access_token\": \"abcd1234\"} \
                    printed tok-123456789 error: invalid_grant; gpg: No secret key";
        let line = redact_credentials(said, "tok-123456789\n");
        for secret in [
            "1//0gAbCdEfGh12",
            "GOCSPX-x1y2z3",
            "ya29.a0Afoo",
            "abcd1234",
            "tok-123456789",
        ] {
            assert!(!line.contains(secret), "{secret} in {line}");
        }
        assert!(
            line.contains("error: invalid_grant; gpg: No secret key"),
            "{line}"
        );
        assert!(line.contains("refresh_token=[redacted]"), "{line}");
        assert!(line.contains("Bearer [redacted]"), "{line}");
    }
}
