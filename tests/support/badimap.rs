//! A small misbehaving IMAP server on 127.0.0.1, for the cases no real server produces on
//! demand: bodies withheld, UIDs out of range, an empty SEARCH, a drip of one byte a second,
//! oversized greetings, lines and literals, a BYE in the middle of a FETCH.
//!
//! It speaks just enough IMAP4rev1 (RFC 3501) for `secdesk sync` over plaintext loopback:
//! CAPABILITY, LOGIN, EXAMINE/SELECT, UID FETCH, UID SEARCH, LIST, NOOP, LOGOUT. What it
//! does wrong is set by [`Behaviour`]; everything else is answered correctly, so a test
//! sees exactly one fault at a time. Each connection is served on its own thread; dropping
//! the server stops accepting and shuts every socket.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A mailbox's messages: (UID, raw message), in UID order.
pub type Messages = Vec<(u32, Vec<u8>)>;

/// What the server does wrong. The default is an honest server.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Mailbox name -> (UID, message) in UID order.
    pub mailboxes: Vec<(String, Messages)>,
    /// UIDVALIDITY announced for every mailbox.
    pub uidvalidity: u32,
    /// Announce this EXISTS instead of the true count.
    pub exists: Option<u32>,
    /// Announce this UIDNEXT instead of the true one.
    pub uid_next: Option<u32>,
    /// Announce no UIDNEXT at all (RFC 3501 requires it; some servers forget).
    pub omit_uid_next: bool,
    /// Extra `(seq, uid)` FETCH lines added to every UID listing answer.
    pub extra_listed: Vec<(u32, u32)>,
    /// Answer `UID FETCH ... (UID ...)` listings with nothing at all.
    pub empty_listing: bool,
    /// Answer `FETCH 1:* (UID ...)` (by sequence numbers) with nothing at all.
    pub empty_seq_listing: bool,
    /// UIDs whose body FETCH answer omits them (the tagged OK still comes).
    pub withhold: Vec<u32>,
    /// After this many bodies in one FETCH answer, send `* BYE` and close.
    pub bye_after_bodies: Option<usize>,
    /// Send these extra body FETCH lines (uid, body) with every body FETCH answer.
    pub extra_bodies: Vec<(u32, Vec<u8>)>,
    /// Send the greeting one byte at a time, this far apart.
    pub drip_greeting: Option<Duration>,
    /// Send body FETCH answers one byte at a time, this far apart.
    pub drip_fetch: Option<Duration>,
    /// A greeting of this many bytes with no line end.
    pub huge_greeting: Option<u64>,
    /// After EXAMINE, this many bytes of untagged `* OK` lines before the tagged OK.
    pub flood_lines: Option<u64>,
    /// Answer a body FETCH with one line of this many bytes and no line end.
    pub long_line: Option<u64>,
    /// Announce a literal of this many bytes for each body and stream that many.
    pub huge_literal: Option<u64>,
    /// During IDLE, send `* OK` lines one byte at a time, this far apart, and never stop.
    pub drip_idle: Option<Duration>,
    /// Capabilities beyond IMAP4rev1 (e.g. "IDLE", "SPECIAL-USE").
    pub capabilities: Vec<String>,
    /// LIST answers: (attributes, name) with the name as sent on the wire.
    pub list: Vec<(String, String)>,
    /// UIDs left out of `UID FETCH` listings (their sequence numbers stay true).
    pub omit_listed: Vec<u32>,
    /// Untagged lines (e.g. `* 9 EXISTS`) added to every `UID FETCH` listing answer.
    pub listing_news: Vec<String>,
    /// UIDs listed without their RFC822.SIZE.
    pub sizeless: Vec<u32>,
    /// RFC822.SIZE claimed for these UIDs, in listings and body answers.
    pub size_claims: Vec<(u32, u64)>,
    /// UIDs whose body comes cut to half its size (the claim stays whole).
    pub short_bodies: Vec<u32>,
    /// Mailboxes whose body FETCH is answered NO.
    pub refuse_fetch_in: Vec<String>,
    /// UIDs whose body literal is announced 5 bytes shorter than the bytes sent.
    pub literal_too_long: Vec<u32>,
    /// Send `* BYE` and close instead of this UID's body.
    pub bye_at_uid: Option<u32>,
    /// Answer LOGIN with `NO [AUTHENTICATIONFAILED]` (RFC 5530), as for a wrong password.
    pub refuse_login: bool,
    /// Answer LOGIN as `refuse_login` does once this many LOGINs were let in.
    pub refuse_login_after: Option<usize>,
    /// UIDs listed, then gone as if another client expunged them: their bodies never
    /// come, a check `UID FETCH set (UID)` leaves them out, and NOOP answers one
    /// `* N EXPUNGE` for each (unless `silent_expunge`).
    pub expunged_after_listing: Vec<u32>,
    /// Leave out the `* N EXPUNGE` lines for `expunged_after_listing`.
    pub silent_expunge: bool,
    /// Extra `* 1 FETCH (UID n)` lines added to every check `UID FETCH set (UID)`.
    pub check_extra: Vec<u32>,
    /// Answer a check `UID FETCH set (UID)` wrongly, this way.
    pub check_fault: Option<CheckFault>,
    /// Untagged lines (warnings such as `* NO [ALERT] ...`, RFC 3501 §7.1.2) sent before
    /// the tagged OK of every body FETCH and NOOP.
    pub warnings: Vec<String>,
    /// Greet with `* PREAUTH` (RFC 3501 §7.1.4): logged in already; LOGIN is answered BAD.
    pub preauth: bool,
    /// Announce LOGINDISABLED (RFC 3501 §6.2.3) and answer LOGIN with NO.
    pub login_disabled: bool,
    /// Greet without a `[CAPABILITY ...]` code, so capabilities are known only when asked.
    pub bare_greeting: bool,
    /// The tag EXAMINE's tagged OK carries instead of the command's.
    pub examine_tag: Option<String>,
    /// Lines sent in EXAMINE's answer before its tagged OK.
    pub examine_extra: Vec<String>,
    /// Once more than this many LOGINs were let in, EXAMINE announces this UIDVALIDITY (the
    /// mailbox was recreated meanwhile).
    pub uidvalidity_after_logins: Option<(usize, u32)>,
    /// Once more than this many LOGINs were let in, EXAMINE is answered NO.
    pub refuse_examine_after_logins: Option<usize>,
    /// With `refuse_examine_after_logins`, only EXAMINE of this mailbox is refused.
    pub refuse_examine_only: Option<String>,
}

/// How a check `UID FETCH set (UID)` is answered wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckFault {
    /// Never answered (later commands are answered).
    Silent,
    /// A line that is no IMAP response after the FETCHes, then the tagged OK.
    Garbled,
    /// A line of this many bytes and no line end, then the hang-up.
    LongLine(u64),
    /// `* BYE` and the hang-up instead of an answer.
    Bye,
}

/// An honest server whose INBOX holds one small report per UID in `uids`.
pub fn inbox(uids: std::ops::RangeInclusive<u32>) -> Behaviour {
    let messages = uids
        .map(|u| {
            let raw = super::message(
                &format!("m{u}@example.net"),
                &format!("report {u}"),
                "hello",
            );
            (u, raw)
        })
        .collect();
    Behaviour {
        mailboxes: vec![("INBOX".to_string(), messages)],
        uidvalidity: 7,
        ..Behaviour::default()
    }
}

struct Shared {
    behaviour: Mutex<Behaviour>,
    stop: AtomicBool,
    sockets: Mutex<Vec<TcpStream>>,
    /// Commands received, for assertions (`UID SEARCH` asked or not, mailbox names).
    commands: Mutex<Vec<String>>,
    connections: AtomicUsize,
}

/// A running misbehaving server.
pub struct BadImap {
    pub port: u16,
    shared: Arc<Shared>,
}

impl BadImap {
    pub fn start(behaviour: Behaviour) -> BadImap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test IMAP server");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(behaviour),
            stop: AtomicBool::new(false),
            sockets: Mutex::new(Vec::new()),
            commands: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        });
        let accept = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                accept.connections.fetch_add(1, Ordering::SeqCst);
                if let Ok(clone) = stream.try_clone() {
                    lock(&accept.sockets).push(clone);
                }
                let conn = Arc::clone(&accept);
                thread::spawn(move || {
                    let end = stream.try_clone();
                    let _ = serve(&conn, stream);
                    // Hang up, as a server does after BYE or when it is done.
                    if let Ok(end) = end {
                        let _ = end.shutdown(Shutdown::Both);
                    }
                });
            }
        });
        BadImap { port, shared }
    }

    /// Changes the behaviour for connections and commands from now on.
    pub fn set(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut lock(&self.shared.behaviour));
    }

    /// LOGIN commands received so far.
    pub fn logins(&self) -> usize {
        shared_logins(&self.shared)
    }

    /// Connections accepted so far.
    #[allow(dead_code)]
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Every command received so far, tag stripped.
    pub fn commands(&self) -> Vec<String> {
        lock(&self.shared.commands).clone()
    }
}

impl Drop for BadImap {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for s in lock(&self.shared.sockets).iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes `bytes`, one at a time `gap` apart when given.
fn send(out: &mut TcpStream, bytes: &[u8], drip: Option<Duration>) -> std::io::Result<()> {
    match drip {
        None => out.write_all(bytes),
        Some(gap) => {
            for b in bytes {
                out.write_all(&[*b])?;
                thread::sleep(gap);
            }
            Ok(())
        }
    }
}

/// Writes `n` bytes of `fill` in 64 KB chunks (stops when the client hangs up).
fn stream_bytes(out: &mut TcpStream, n: u64, fill: u8) -> std::io::Result<()> {
    let chunk = vec![fill; 64 * 1024];
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..k])?;
        left -= k as u64;
    }
    Ok(())
}

fn serve(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let b = lock(&shared.behaviour).clone();
    if let Some(n) = b.huge_greeting {
        out.write_all(b"* OK ")?;
        return stream_bytes(&mut out, n, b'x');
    }
    let disabled = if b.login_disabled {
        " LOGINDISABLED"
    } else {
        ""
    };
    let greeting = match (b.preauth, b.bare_greeting) {
        (true, _) => "* PREAUTH [CAPABILITY IMAP4rev1] badimap knows you already\r\n".to_string(),
        (false, true) => "* OK badimap ready\r\n".to_string(),
        (false, false) => format!("* OK [CAPABILITY IMAP4rev1{disabled}] badimap ready\r\n"),
    };
    send(&mut out, greeting.as_bytes(), b.drip_greeting)?;
    let mut selected: Option<String> = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_string();
        let (tag, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let tag = tag.to_string();
        lock(&shared.commands).push(rest.to_string());
        let b = lock(&shared.behaviour).clone();
        let upper = rest.to_ascii_uppercase();
        if upper.starts_with("CAPABILITY") {
            let caps = b.capabilities.join(" ");
            write!(
                out,
                "* CAPABILITY IMAP4rev1{disabled} {caps}\r\n{tag} OK done\r\n"
            )?;
        } else if upper.starts_with("LOGIN") && b.preauth {
            write!(out, "{tag} BAD already authenticated\r\n")?;
        } else if upper.starts_with("LOGIN") && b.login_disabled {
            write!(
                out,
                "{tag} NO [PRIVACYREQUIRED] Plaintext authentication disallowed\r\n"
            )?;
        } else if upper.starts_with("LOGIN")
            && (b.refuse_login
                || b.refuse_login_after
                    .is_some_and(|n| shared_logins(shared) > n))
        {
            write!(
                out,
                "{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
            )?;
        } else if upper.starts_with("LOGIN") {
            write!(out, "{tag} OK logged in\r\n")?;
        } else if upper.starts_with("EXAMINE") || upper.starts_with("SELECT") {
            let logins = shared_logins(shared);
            let named = |m: &str| {
                rest.split_whitespace()
                    .nth(1)
                    .is_some_and(|n| n.trim_matches('"') == m)
            };
            if b.refuse_examine_after_logins.is_some_and(|n| logins > n)
                && b.refuse_examine_only.as_deref().is_none_or(named)
            {
                write!(out, "{tag} NO [UNAVAILABLE] mailbox is being rebuilt\r\n")?;
                continue;
            }
            let uidvalidity = match b.uidvalidity_after_logins {
                Some((n, changed)) if logins > n => changed,
                _ => b.uidvalidity,
            };
            let name = rest
                .split_once(' ')
                .map(|(_, n)| n.trim().trim_matches('"').to_string())
                .unwrap_or_default();
            let Some(msgs) = b.mailboxes.iter().find(|(n, _)| *n == name).map(|(_, m)| m) else {
                write!(out, "{tag} NO [NONEXISTENT] no such mailbox\r\n")?;
                continue;
            };
            let exists = b.exists.unwrap_or(msgs.len() as u32);
            let next = b
                .uid_next
                .unwrap_or_else(|| msgs.last().map_or(1, |(u, _)| u.saturating_add(1)));
            write!(
                out,
                "* FLAGS (\\Seen)\r\n* {exists} EXISTS\r\n* 0 RECENT\r\n\
                 * OK [UIDVALIDITY {}] ok\r\n",
                uidvalidity.max(1)
            )?;
            if !b.omit_uid_next {
                write!(out, "* OK [UIDNEXT {next}] ok\r\n")?;
            }
            if let Some(n) = b.flood_lines {
                let line = format!("* OK {}\r\n", "y".repeat(1000));
                let mut sent = 0;
                while sent < n {
                    out.write_all(line.as_bytes())?;
                    sent += line.len() as u64;
                }
            }
            for line in &b.examine_extra {
                write!(out, "{line}\r\n")?;
            }
            let tag = b.examine_tag.as_deref().unwrap_or(&tag);
            write!(out, "{tag} OK [READ-ONLY] done\r\n")?;
            selected = Some(name);
        } else if upper.starts_with("UID SEARCH") {
            // The Debian server's answer: nothing, whatever the mailbox holds.
            write!(out, "* SEARCH\r\n{tag} OK done\r\n")?;
        } else if upper.starts_with("UID FETCH") {
            let msgs = selected
                .as_ref()
                .and_then(|s| b.mailboxes.iter().find(|(n, _)| n == s))
                .map(|(_, m)| m.clone())
                .unwrap_or_default();
            let set = rest.split_whitespace().nth(2).unwrap_or("");
            let wanted: Vec<(usize, &(u32, Vec<u8>))> = msgs
                .iter()
                .enumerate()
                .filter(|(_, (uid, _))| in_set(set, *uid, msgs.last().map_or(0, |m| m.0)))
                .collect();
            if upper.contains("BODY.PEEK[")
                && selected
                    .as_ref()
                    .is_some_and(|m| b.refuse_fetch_in.contains(m))
            {
                write!(
                    out,
                    "{tag} NO [UNAVAILABLE] this mailbox is not served today\r\n"
                )?;
            } else if upper.contains("BODY.PEEK[") {
                fetch_bodies(&mut out, &b, &tag, &upper, &wanted)?;
                let bye_here = b
                    .bye_at_uid
                    .is_some_and(|u| wanted.iter().any(|(_, (w, _))| *w == u));
                if b.bye_after_bodies.is_some() || bye_here {
                    return Ok(());
                }
            } else if upper.ends_with("(UID)") {
                // The check whether UIDs still exist (`UID FETCH set (UID)`).
                match b.check_fault {
                    Some(CheckFault::Silent) => continue,
                    Some(CheckFault::Bye) => {
                        out.write_all(b"* BYE going away while you ask\r\n")?;
                        return Ok(());
                    }
                    Some(CheckFault::LongLine(n)) => {
                        out.write_all(b"* 1 FETCH (UID ")?;
                        return stream_bytes(&mut out, n, b'7');
                    }
                    Some(CheckFault::Garbled) | None => {}
                }
                for (i, (uid, _)) in &wanted {
                    if !b.expunged_after_listing.contains(uid) {
                        write!(out, "* {} FETCH (UID {uid})\r\n", i + 1)?;
                    }
                }
                if b.check_fault == Some(CheckFault::Garbled) {
                    out.write_all(b"HTTP/1.1 502 Bad Gateway\r\n")?;
                }
                for uid in &b.check_extra {
                    write!(out, "* 1 FETCH (UID {uid})\r\n")?;
                }
                write!(out, "{tag} OK done\r\n")?;
            } else {
                if !b.empty_listing {
                    for (i, (uid, raw)) in &wanted {
                        if b.omit_listed.contains(uid) {
                            continue;
                        }
                        if b.sizeless.contains(uid) {
                            write!(out, "* {} FETCH (UID {uid})\r\n", i + 1)?;
                            continue;
                        }
                        write!(
                            out,
                            "* {} FETCH (UID {uid} RFC822.SIZE {})\r\n",
                            i + 1,
                            claim(&b, *uid, raw)
                        )?;
                    }
                    for line in &b.listing_news {
                        write!(out, "{line}\r\n")?;
                    }
                    for (seq, uid) in &b.extra_listed {
                        write!(out, "* {seq} FETCH (UID {uid} RFC822.SIZE 100)\r\n")?;
                    }
                }
                write!(out, "{tag} OK done\r\n")?;
            }
        } else if upper.starts_with("FETCH") {
            // A listing by sequence numbers (`FETCH 1:* (UID RFC822.SIZE)`).
            let msgs = selected
                .as_ref()
                .and_then(|s| b.mailboxes.iter().find(|(n, _)| n == s))
                .map(|(_, m)| m.clone())
                .unwrap_or_default();
            let set = rest.split_whitespace().nth(1).unwrap_or("");
            if !b.empty_seq_listing {
                for (i, (uid, raw)) in msgs.iter().enumerate() {
                    let seq = i as u32 + 1;
                    if in_set(set, seq, msgs.len() as u32) {
                        write!(
                            out,
                            "* {seq} FETCH (UID {uid} RFC822.SIZE {})\r\n",
                            raw.len()
                        )?;
                    }
                }
            }
            write!(out, "{tag} OK done\r\n")?;
        } else if upper.starts_with("LIST") {
            for (attrs, name) in &b.list {
                write!(out, "* LIST ({attrs}) \"/\" {name}\r\n")?;
            }
            write!(out, "{tag} OK done\r\n")?;
        } else if upper.starts_with("IDLE") {
            // RFC 2177: a continuation, untagged updates, then the tagged OK after DONE.
            out.write_all(b"+ idling\r\n")?;
            if let Some(gap) = b.drip_idle {
                loop {
                    send(&mut out, b"* OK still here\r\n", Some(gap))?;
                }
            }
            let mut done = String::new();
            reader.read_line(&mut done)?;
            write!(out, "{tag} OK idle done\r\n")?;
        } else if upper.starts_with("LOGOUT") {
            write!(out, "* BYE bye\r\n{tag} OK done\r\n")?;
            return Ok(());
        } else if upper.starts_with("NOOP") {
            if !b.silent_expunge {
                for _ in &b.expunged_after_listing {
                    // Each EXPUNGE renumbers the rest (RFC 3501 §7.4.1); any seq will do here.
                    write!(out, "* 1 EXPUNGE\r\n")?;
                }
            }
            for line in &b.warnings {
                write!(out, "{line}\r\n")?;
            }
            write!(out, "{tag} OK done\r\n")?;
        } else {
            write!(out, "{tag} BAD not in this test server\r\n")?;
        }
    }
}

/// LOGIN commands received so far, on every connection.
fn shared_logins(shared: &Shared) -> usize {
    lock(&shared.commands)
        .iter()
        .filter(|c| c.to_ascii_uppercase().starts_with("LOGIN"))
        .count()
}

fn fetch_bodies(
    out: &mut TcpStream,
    b: &Behaviour,
    tag: &str,
    upper: &str,
    wanted: &[(usize, &(u32, Vec<u8>))],
) -> std::io::Result<()> {
    if let Some(n) = b.long_line {
        out.write_all(b"* 1 FETCH (UID 1 FLAGS (")?;
        return stream_bytes(out, n, b'z');
    }
    let headers_only = upper.contains("BODY.PEEK[HEADER]");
    let mut sent = 0;
    for (i, (uid, raw)) in wanted {
        if b.withhold.contains(uid) || b.expunged_after_listing.contains(uid) {
            continue;
        }
        if b.bye_after_bodies == Some(sent) || b.bye_at_uid == Some(*uid) {
            out.write_all(b"* BYE shutting down in the middle of your FETCH\r\n")?;
            return Ok(());
        }
        if let Some(n) = b.huge_literal {
            write!(out, "* {} FETCH (UID {uid} BODY[] {{{n}}}\r\n", i + 1)?;
            return stream_bytes(out, n, b'a');
        }
        let mut content: &[u8] = if headers_only {
            let end = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(raw.len(), |p| p + 4);
            &raw[..end]
        } else {
            raw
        };
        if b.short_bodies.contains(uid) {
            content = &content[..content.len() / 2];
        }
        // A partial fetch, `BODY.PEEK[]<0.N>` (RFC 3501 §6.4.5): the first N bytes.
        let partial = upper
            .split_once("BODY.PEEK[]<0.")
            .and_then(|(_, rest)| rest.split_once('>'))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        if let Some(n) = partial {
            content = &content[..content.len().min(n)];
        }
        let section = if headers_only {
            "BODY[HEADER]"
        } else if partial.is_some() {
            "BODY[]<0>"
        } else {
            "BODY[]"
        };
        let mut answer = format!(
            "* {} FETCH (UID {uid} RFC822.SIZE {} INTERNALDATE \"24-Nov-2026 10:00:00 +0000\" {section} {{{}}}\r\n",
            i + 1,
            claim(b, *uid, raw),
            content.len() - if b.literal_too_long.contains(uid) { 5 } else { 0 }
        )
        .into_bytes();
        answer.extend_from_slice(content);
        answer.extend_from_slice(b")\r\n");
        send(out, &answer, b.drip_fetch)?;
        sent += 1;
    }
    if b.bye_after_bodies.is_some() {
        out.write_all(b"* BYE shutting down in the middle of your FETCH\r\n")?;
        return Ok(());
    }
    for (uid, raw) in &b.extra_bodies {
        write!(out, "* 1 FETCH (UID {uid} BODY[] {{{}}}\r\n", raw.len())?;
        out.write_all(raw)?;
        out.write_all(b")\r\n")?;
    }
    for line in &b.warnings {
        write!(out, "{line}\r\n")?;
    }
    write!(out, "{tag} OK done\r\n")
}

/// The RFC822.SIZE the server claims for `uid`.
fn claim(b: &Behaviour, uid: u32, raw: &[u8]) -> u64 {
    b.size_claims
        .iter()
        .find(|(u, _)| *u == uid)
        .map_or(raw.len() as u64, |(_, n)| *n)
}

/// Whether `uid` is in the sequence set `set` (`1:3,7,9:*`); `*` is the highest UID.
fn in_set(set: &str, uid: u32, highest: u32) -> bool {
    let num = |s: &str| {
        if s == "*" {
            Some(highest)
        } else {
            s.parse::<u32>().ok()
        }
    };
    set.split(',').any(|part| match part.split_once(':') {
        Some((a, b)) => match (num(a), num(b)) {
            (Some(a), Some(b)) => (a.min(b)..=a.max(b)).contains(&uid),
            _ => false,
        },
        None => num(part) == Some(uid),
    })
}
