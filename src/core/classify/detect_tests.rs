//! Tests of the evidence patterns' split between a set and patterns run alone.
use super::*;

#[test]
fn split_patterns_answer_as_each_pattern_alone() {
    // Some patterns run alone and the rest as a set: every index must still name its
    // own pattern.
    let texts = [
        "Traceback (most recent call last):\n  File \"x.py\", line 3\n==12==ERROR: AddressSanitizer",
        "See Lib/tarfile.py and CVE-2024-1234, CWE-22, GHSA-cfgh-jmpq-2345 on 3.12.1",
        "Send 2.5 BTC or $1,000,000 today. Steps to reproduce:\n>>> import os\n",
        "A critical severity vulnerability; we ask for a bug bounty reward.",
        "Nothing to see here.",
    ];
    for text in texts {
        let m = Matches::of(text);
        for (i, p) in PATTERNS.iter().enumerate() {
            assert_eq!(
                m.matched(i),
                re(p).is_match(text),
                "pattern {i} on {text:?}"
            );
        }
    }
    assert!(Matches::of(texts[0]).matched(TRACEBACK));
    assert!(Matches::of(texts[1]).matched(GHSA));
    assert!(Matches::of(texts[2]).matched(CRYPTO));
}

#[test]
fn a_display_name_in_look_alike_letters_impersonates_as_the_plain_one() {
    let mail = |name: &str| {
        crate::core::parse::parse_message(
            format!(
                "From: {name} <alerts@security-desk.example>\r\nTo: security@python.org\r\n\
                 Subject: verify\r\n\r\nClick here.\r\n"
            )
            .as_bytes(),
        )
    };
    let plain = evidence(&mail("Python Security Team"));
    assert_eq!(plain.impersonated.as_deref(), Some("python.org"));
    // A Cyrillic `о` in "Pythоn", sent as an RFC 2047 encoded word.
    let disguised = evidence(&mail("=?utf-8?b?UHl0aNC+biBTZWN1cml0eSBUZWFt?="));
    assert_eq!(disguised.impersonated, plain.impersonated);
}
