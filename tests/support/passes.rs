//! A desk whose model has learned what the receiving server's passes look like: the reports
//! it confirmed came with `mx.example.org`'s SPF, DKIM and DMARC pass, the spam without.
//! On such a desk a pass weighs heavily for "not spam", so a spammer gains by writing one
//! into its own mail (RFC 8601 §5): the tests check it is weighed only when `[sync]
//! authserv_id` names the server that wrote it.

use std::path::{Path, PathBuf};

/// The receiving server's authserv-id.
pub const SERVER: &str = "mx.example.org";

/// A pass from every check, as `authserv_id` records it.
pub fn pass_from(authserv_id: &str) -> String {
    format!(
        "Authentication-Results: {authserv_id}; spf=pass smtp.mailfrom=northgate-hosting.example; \
         dkim=pass header.d=northgate-hosting.example; dmarc=pass header.from=northgate-hosting.example\r\n"
    )
}

/// A billing phish's body (`assets/demo/13-fake-invoice-phishing.eml`).
pub const INVOICE: &str = "Dear Customer,\r\n\r\nWe were unable to process the payment for invoice #NG-88213.\r\n\r\n\
  Service:      Dedicated Server DS-XL (python.org)\r\n  Amount due:   USD 1,284.00\r\n  Due date:     14 Nov 2026\r\n\
  Status:       OVERDUE\r\n\r\nTo avoid suspension of your server and loss of data, please update your\r\n\
billing details and settle the invoice within 24 hours:\r\n\r\n\
  View invoice: https://northgate-hosting.example.billing-portal.example/inv/NG-88213\r\n\r\n\
You will need to sign in with your email account password to view the\r\nsecured document.\r\n\r\n\
If you have already paid, please disregard this message.\r\n\r\nKind regards,\r\nBilling Department\r\nNorthgate Hosting Ltd.\r\n";

/// Writes the labelled folders `secdesk train` reads (`DIR/spam`, `DIR/ham`) into `dir`:
/// 40 spam without any `Authentication-Results`, 40 reports with the server's pass.
pub fn pass_trained_corpus(dir: &Path) -> PathBuf {
    const SPAM: [&str; 14] = [
        "win", "prize", "money", "claim", "offer", "free", "bitcoin", "cash", "lottery", "winner",
        "bank", "details", "act", "limited",
    ];
    const HAM: [&str; 12] = [
        "tarfile",
        "zipfile",
        "overflow",
        "crash",
        "reproducer",
        "traceback",
        "python",
        "module",
        "version",
        "patch",
        "fix",
        "review",
    ];
    let words = |list: &[&str], n: usize| -> String {
        (0..40)
            .map(|k| list[(n * 7 + k * k * 3 + k) % list.len()])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let root = dir.join("pass-corpus");
    for label in ["spam", "ham"] {
        std::fs::create_dir_all(root.join(label)).expect("corpus folder");
    }
    for n in 0..40 {
        let spam = format!(
            "From: x{n}@spam{n}.example\r\nSubject: offer {n}\r\nMessage-ID: <s{n}@spam.example>\r\n\r\n{}\r\n",
            words(&SPAM, n)
        );
        std::fs::write(root.join(format!("spam/{n}.eml")), spam).expect("spam");
        let ham = format!(
            "Authentication-Results: {SERVER}; spf=pass; dkim=pass; dmarc=pass\r\n\
             From: y{n}@ham{n}.example\r\nSubject: report {n}\r\nMessage-ID: <h{n}@ham.example>\r\n\r\n{}\r\n",
            words(&HAM, n)
        );
        std::fs::write(root.join(format!("ham/{n}.eml")), ham).expect("ham");
    }
    root
}
