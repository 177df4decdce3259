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
