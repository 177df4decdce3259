//! The tokenizer on whole messages: each header's prefix, URLs and attachments, long words
//! and control characters, bounded work on hostile input, and headers the receiver adds.

use super::*;
use crate::core::parse::parse_message;

fn tokens(raw: &str) -> Vec<String> {
    tokenize(&parse_message(raw.as_bytes()))
}

#[test]
fn headers_body_urls_and_attachments_get_their_prefixes() {
    let raw = "From: Jo Doe <jo@mail.example.org>\nSubject: Cheap VIAGRA now!!\n\
               Received: from relay.bad.test (relay.bad.test [203.0.113.9]) by mx.example.org\n\
               MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n\
               --b\nContent-Type: text/plain\n\nBuy at https://shop.pills.test/buy/now?x=1 today, friend.\n\
               --b\nContent-Type: application/zip; name=inv.zip\nContent-Disposition: attachment; filename=inv.zip\n\nUEsDBA==\n--b--\n";
    let t = tokens(raw);
    for want in [
        "subj:cheap",
        "subj:viagra",
        "subj:now",
        "from:jo@mail.example.org",
        "from:mail.example.org",
        "from:example.org",
        "from:name:doe",
        "rcvd:bad.test",
        "rcvd:relay.bad.test",
        "rcvd:ip:203.0",
        "rcvd:ip:203.0.113",
        "buy",
        "today",
        "friend",
        "url:proto:https",
        "url:shop.pills.test",
        "url:pills.test",
        "url:path:buy",
        "att:application/zip",
        "att:.zip",
        "hdr:mime-version",
    ] {
        assert!(t.contains(&want.to_string()), "missing {want} in {t:?}");
    }
    // Short words are dropped, and each token occurs once.
    assert!(!t.contains(&"at".to_string()));
    let mut dedup = t.clone();
    dedup.dedup();
    assert_eq!(dedup, t);
}

#[test]
fn long_words_become_skip_tokens_and_controls_are_removed() {
    let t = tokens("Subject: x\n\nabcdefghijklmnopqrstuvwxyz0123 ev\u{1b}[31mil\n");
    assert!(t.contains(&"skip:a:30".to_string()), "{t:?}");
    assert!(t.iter().all(|w| !w.contains('\u{1b}')), "{t:?}");
}

#[test]
fn hostile_input_is_bounded() {
    let mut raw = String::from("Subject: many\n\n");
    for i in 0..200_000 {
        raw.push_str(&format!("w{i} "));
    }
    let t = tokens(&raw);
    assert!(t.len() <= MAX_TOKENS);
    // Only the first 64 KB of the body is read.
    assert!(!t.contains(&"w199999".to_string()));
}

#[test]
fn headers_the_receiving_system_adds_give_no_tokens() {
    let raw = "Received: from localhost (localhost [127.0.0.1]) by mx.lerctr.example (Postfix)\n\
               Received: from relay.lerctr.example (relay.lerctr.example [10.0.0.5]) by mx.lerctr.example\n\
               Received: from out.sender.test (out.sender.test [198.51.100.7]) by relay.lerctr.example\n\
               Received: from laptop.sender.test ([192.0.2.1]) by out.sender.test\n\
               X-Status: RO\nX-Keywords: junk\nDelivery-Date: Mon, 1 Jan 2001\nReturn-Path: <a@b.test>\n\
               Subject: hi\n\nhello there\n";
    let t = tokens(raw);
    for gone in [
        "hdr:x-status",
        "hdr:x-keywords",
        "hdr:delivery-date",
        "hdr:return-path",
        "rcvd:lerctr.example",
        "rcvd:mx.lerctr.example",
    ] {
        assert!(!t.contains(&gone.to_string()), "{gone} in {t:?}");
    }
    for kept in [
        "rcvd:sender.test",
        "rcvd:out.sender.test",
        "rcvd:ip:198.51",
        "rcvd:laptop.sender.test",
        "hdr:received",
    ] {
        assert!(t.contains(&kept.to_string()), "{kept} missing in {t:?}");
    }
}
