//! The compact store seen from the command line: `secdesk store --stats [--json]`, and a
//! message's attachment saved back byte-exact from its compressed raw copy.

use secdesk::core::store::raw::RawMessage;
use secdesk::core::store::Store;

use crate::desk::{mail, reports, stderr, Desk};

#[test]
fn store_stats_shows_where_the_space_goes_as_text_and_json() {
    let desk = Desk::new();
    desk.import_ok(&reports(30, &"a line of the report body\n".repeat(40)));

    let text = desk.ok(&["store", "--stats"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("store ") && lines[0].contains(&desk.db.display().to_string()),
        "{text}"
    );
    let mail: i64 = reports(30, &"a line of the report body\n".repeat(40))
        .iter()
        .map(|m| m.len() as i64)
        .sum();
    // The file against the mail it holds, as the mail came (issue 17's measure).
    let json: serde_json::Value =
        serde_json::from_str(&desk.ok(&["store", "--stats", "--json"])).unwrap();
    let file_bytes = json["file_bytes"].as_i64().unwrap() as f64;
    let ratio = format!("{:.2}× the mail", file_bytes / mail as f64);
    assert!(
        lines[1].starts_with("file ")
            && lines[1].contains(&ratio)
            && lines[1].contains("pages of 16384 bytes"),
        "{ratio}: {text}"
    );
    assert!(
        lines[2].starts_with("messages   30, ") && lines[2].contains(" of mail as it came: raw "),
        "{text}"
    );
    assert!(
        lines[3].starts_with("bodies     ") && lines[3].contains("decoded from raw"),
        "{text}"
    );
    let messages_row = lines
        .iter()
        .find(|l| l.split_whitespace().take(2).eq(["messages", "table"]))
        .unwrap_or_else(|| panic!("no row for the messages table: {text}"));
    // name, kind, MB, share, slack MB
    let cells: Vec<&str> = messages_row.split_whitespace().collect();
    assert!(
        cells.len() == 5 && cells[3].ends_with('%'),
        "{messages_row}"
    );
    assert!(cells[4].parse::<f64>().is_ok(), "{messages_row}");
    // 30 messages are too few to train the raw messages' dictionary on.
    assert!(
        lines[4].starts_with("dictionary none yet: trained once the store holds 1000"),
        "{text}"
    );

    assert_eq!(json["messages"], 30);
    assert_eq!(json["source"], "dbstat");
    assert_eq!(json["dictionaries"], 0);
    let objects = json["objects"].as_array().unwrap();
    let pages: i64 = objects.iter().map(|o| o["pages"].as_i64().unwrap()).sum();
    // Every page is in a table or index, free, or the pointer map of a store that gives
    // freed pages back (auto_vacuum).
    assert_eq!(json["pointer_map_pages"], 1);
    assert_eq!(
        pages + json["free_pages"].as_i64().unwrap() + 1,
        json["pages"].as_i64().unwrap()
    );
    let bytes = |name: &str| {
        objects
            .iter()
            .find(|o| o["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))["bytes"]
            .as_i64()
            .unwrap()
    };
    assert!(bytes("messages") >= json["raw_bytes"].as_i64().unwrap());
    // The raw messages are stored compressed: less than the mail they came as, which the
    // store knows byte for byte.
    assert_eq!(json["mail_bytes"], mail, "{json}");
    assert_eq!(json["raw_unsized"], 0, "{json}");
    assert!(json["raw_bytes"].as_i64().unwrap() * 3 < mail, "{json}");
}

#[test]
fn store_without_what_to_do_says_so() {
    let desk = Desk::new();
    let line = desk.refused(&["store"]);
    assert!(line.contains("secdesk store --stats"), "{line}");
}

#[test]
fn an_attachment_is_saved_byte_exact_from_the_compressed_store() {
    let desk = Desk::new();
    let payload: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let b64 = base64_lines(&payload);
    let mail = format!(
        "From: r@example.org\r\nTo: security@example.org\r\nSubject: poc\r\nMessage-ID: <poc@x>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nsee the attachment\r\n--b\r\n\
         Content-Type: application/octet-stream; name=poc.bin\r\n\
         Content-Disposition: attachment; filename=poc.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}--b--\r\n"
    );
    desk.import_ok(&[mail]);
    let into = desk.dir.path().join("saved");
    let out = desk.run(&["save", "1", "--dir", into.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(into.join("poc.bin")).unwrap(), payload);
}

fn base64_lines(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, c) in data.chunks(3).enumerate() {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            out.push(if k <= c.len() {
                A[(n >> (18 - 6 * k) & 63) as usize] as char
            } else {
                '='
            });
        }
        if i % 19 == 18 {
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out
}

#[test]
fn a_dictionary_another_process_trained_is_picked_up_by_a_store_left_open() {
    let desk = Desk::new();
    let first = mail(
        5000,
        "Rita Reporter <rita@reporter.example>",
        "early",
        "the first report",
    );
    desk.import_ok(std::slice::from_ref(&first));
    // A long-lived process (the desk) holds the store while another one (a sync) brings it
    // to 1,000 messages, trains its dictionary and re-packs every raw message with it.
    let held = Store::open(&desk.db).unwrap();
    desk.import_ok(&reports(
        1000,
        "a report body that repeats across the mailbox\n",
    ));
    let read = |s: &Store| -> rusqlite::Result<Vec<u8>> {
        s.conn().query_row(
            "SELECT raw FROM messages WHERE message_id = 'm5000@reporter.example'",
            [],
            |r| r.get::<_, RawMessage>(0).map(|m| m.0),
        )
    };
    let trained: i64 = held
        .conn()
        .query_row("SELECT count(*) FROM raw_dictionaries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(trained, 1, "the other process trained a dictionary");
    held.refresh_dictionaries().unwrap();
    assert_eq!(read(&held).unwrap(), first.as_bytes());
}
