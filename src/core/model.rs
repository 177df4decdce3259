//! Domain types shared by every layer: report classes, classifier outcomes and triage states.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A report's identifier: the row id of the report in the store.
pub type ReportId = i64;

/// The actor recorded for changes secdesk makes on its own (a reporter's reply arriving).
pub const SYSTEM_ACTOR: &str = "secdesk";

/// What a report is, as suggested by the classifier or confirmed by a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Unsolicited bulk mail.
    Spam,
    /// Sent in good faith (or automatically) but not an actionable report for this team.
    Invalid,
    /// An actionable vulnerability report.
    Valid,
}

impl Class {
    pub const ALL: [Class; 3] = [Class::Spam, Class::Invalid, Class::Valid];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Spam => "spam",
            Class::Invalid => "invalid",
            Class::Valid => "valid",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Class {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "spam" => Ok(Class::Spam),
            "invalid" => Ok(Class::Invalid),
            "valid" => Ok(Class::Valid),
            other => Err(format!(
                "unknown class '{other}': expected spam, invalid or valid"
            )),
        }
    }
}

/// The spam filter's three-way verdict. `Unsure` is first class: it is shown as such and
/// never closed automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Spam,
    Unsure,
    Ham,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Spam => "spam",
            Outcome::Unsure => "unsure",
            Outcome::Ham => "ham",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "spam" => Ok(Outcome::Spam),
            "unsure" => Ok(Outcome::Unsure),
            "ham" => Ok(Outcome::Ham),
            other => Err(format!(
                "unknown outcome '{other}': expected spam, unsure or ham"
            )),
        }
    }
}

/// Where a message came from relative to the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Mail from a reporter (or anyone outside) into the mailbox.
    In,
    /// A reply the team sent.
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// Defines a string-backed enum with `as_str`, `Display`, `FromStr` (listing the accepted
/// names in its error) and serde in the same spelling.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} '{}': expected one of {}",
                        $what,
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

named_enum!(
    /// A report's place in the triage lifecycle. The allowed moves between states live in
    /// one transition table, in `core::lifecycle`.
    ReportState, "state", {
        New => "new",
        Acknowledged => "acknowledged",
        /// Accepted as a vulnerability.
        Triaged => "triaged",
        Fixing => "fixing",
        /// Advisory or CVE published.
        Disclosed => "disclosed",
        /// Waiting on the reporter.
        NeedsInfo => "needs-info",
        Spam => "spam",
        Invalid => "invalid",
        Duplicate => "duplicate",
        Resolved => "resolved",
    }
);

impl ReportState {
    /// Closed states end the response clocks; every one of them can be reopened.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            ReportState::Spam
                | ReportState::Invalid
                | ReportState::Duplicate
                | ReportState::Resolved
                | ReportState::Disclosed
        )
    }
}

named_enum!(
    /// Why a report was closed as invalid.
    InvalidReason, "invalid reason", {
        NotAVulnerability => "not-a-vulnerability",
        ThirdParty => "third-party",
        SupportRequest => "support-request",
        WorkingAsIntended => "working-as-intended",
        NoResponse => "no-response",
        // A reason of the triager's own words, kept as the change's note.
        Other => "other",
    }
);

/// What the classifier says about one message: the suggested class, the spam filter's
/// outcome and score, and the reasons behind them, most telling first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub class: Class,
    pub outcome: Outcome,
    /// 0 to 1, higher is spammier: the number the spam decision is made on.
    pub spam_score: f64,
    /// 0 to 1: how sure the classifier is of `class`.
    pub confidence: f64,
    pub reasons: Vec<String>,
}
