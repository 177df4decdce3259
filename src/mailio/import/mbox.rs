//! Reading an mbox as a stream, one message at a time, in bounded memory.
//!
//! The format is the family described in RFC 4155 (`application/mbox`): each message starts at
//! a separator line `From <return-path> <ctime date>`. As in mutt's `is_from()`, a line is only
//! a separator when it looks like one (an address-ish token and a date) and, as every writer
//! puts it, follows a blank line. Any other body line beginning `From ` is the message's own
//! text and is kept. Lines quoted by the writer (`>From `, `>>From `, ...) lose one `>`, the
//! mboxrd rule, which also undoes mboxo's quoting of plain `From ` lines.
//!
//! Memory: a line is read in pieces of at most `MAX_PIECE` bytes, and a message bigger
//! than the reader's limit is not kept: only its header section (at most [`MAX_HEADERS`]
//! bytes) and its size are, reported as [`MboxItem::TooLarge`]. The limit and the size are
//! the message's own bytes: the blank line the format puts before the next separator is
//! not counted, so a message of exactly the limit is kept whole, as sync keeps one.

use std::io::{self, BufRead};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use regex::bytes::Regex;

use crate::core::parse::mbox_from_date;

/// The longest piece of a line held at once; longer lines are handled piece by piece.
const MAX_PIECE: usize = 64 * 1024;
/// The most of an oversized message's header section that is kept.
pub const MAX_HEADERS: usize = 256 * 1024;
/// The longest blank line that ends an entry (`\r\n`): the format's, not the message's.
const FORMAT_BLANK: u64 = 2;

/// One entry of an mbox.
#[derive(Debug, PartialEq, Eq)]
pub enum MboxItem {
    /// A message, without its separator line and with quoted `From ` lines unquoted, when
    /// it arrived as its separator line says (the Date header is checked against it), and
    /// its number in the file (from 1).
    Message(Vec<u8>, Option<DateTime<Utc>>, usize),
    /// A message over the limit, not kept: its number in the file (from 1), the byte offset
    /// of its separator line, its size and its header section (see [`header_section`]).
    TooLarge {
        index: usize,
        offset: u64,
        bytes: u64,
        headers: Vec<u8>,
    },
}

/// Yields the messages of an mbox read from `input`, each at most `max_message` bytes.
pub struct MboxReader<R> {
    input: R,
    max_message: usize,
    /// The current piece of a line.
    piece: Vec<u8>,
    /// True when the next piece starts a line.
    at_line_start: bool,
    /// True before the first line of the input.
    at_file_start: bool,
    /// True when the last complete line was blank.
    prev_blank: bool,
    /// True while skipping the rest of an over-long separator line.
    in_separator: bool,
    /// Bytes read so far.
    offset: u64,
    /// Messages started so far.
    started: usize,
    current: Option<Current>,
}

/// The message being read.
struct Current {
    index: usize,
    /// The arrival time on its separator line.
    arrival: Option<DateTime<Utc>>,
    offset: u64,
    data: Vec<u8>,
    /// Bytes seen, including those dropped once over the limit.
    bytes: u64,
    /// The last bytes seen (at most 4), to tell the format's closing blank line once the
    /// data is dropped.
    tail: Vec<u8>,
    /// The reader's limit.
    max: u64,
    /// Set once over the limit (and the closing blank line): the header section, kept
    /// instead of `data`.
    too_large: Option<Vec<u8>>,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R, max_message: usize) -> Self {
        MboxReader {
            input,
            max_message,
            piece: Vec::new(),
            at_line_start: true,
            at_file_start: true,
            prev_blank: true,
            in_separator: false,
            offset: 0,
            started: 0,
            current: None,
        }
    }

    /// When the input ended in the middle of a line: the number of the last entry, which
    /// the file's end cut short (every mbox writer ends each line, the last one too).
    pub fn cut_short(&self) -> Option<usize> {
        (!self.at_line_start && self.started > 0).then_some(self.started)
    }

    /// Reads the next piece of a line into `self.piece`: up to and including `\n`, or
    /// [`MAX_PIECE`] bytes. False at the end of the input.
    fn next_piece(&mut self) -> io::Result<bool> {
        self.piece.clear();
        loop {
            let buf = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(!self.piece.is_empty());
            }
            let room = MAX_PIECE - self.piece.len();
            let window = &buf[..buf.len().min(room)];
            let newline = window.iter().position(|&b| b == b'\n');
            let n = newline.map_or(window.len(), |i| i + 1);
            self.piece.extend_from_slice(&window[..n]);
            self.input.consume(n);
            self.offset += n as u64;
            if newline.is_some() || self.piece.len() >= MAX_PIECE {
                return Ok(true);
            }
        }
    }

    fn start_message(&mut self, offset: u64, arrival: Option<DateTime<Utc>>) -> Option<MboxItem> {
        self.started += 1;
        let next = Current {
            index: self.started,
            arrival,
            offset,
            data: Vec::new(),
            bytes: 0,
            tail: Vec::new(),
            max: self.max_message as u64,
            too_large: None,
        };
        self.current.replace(next).and_then(Current::finish)
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.current.is_none() {
            // Text before any separator (not an mbox written by a mail program): kept as a message.
            let offset = self.offset - self.piece.len() as u64;
            self.start_message(offset, None);
        }
        // start_message above guarantees a current message.
        let Some(m) = self.current.as_mut() else {
            return;
        };
        m.bytes += bytes.len() as u64;
        m.tail
            .extend_from_slice(&bytes[bytes.len().saturating_sub(4)..]);
        m.tail.drain(..m.tail.len().saturating_sub(4));
        if m.too_large.is_some() {
            return;
        }
        // Until the entry ends, its last bytes may be the format's blank line, not the message's.
        if m.bytes > (self.max_message as u64).saturating_add(FORMAT_BLANK) {
            let mut data = std::mem::take(&mut m.data);
            data.extend_from_slice(bytes);
            m.too_large = Some(header_section(&data).to_vec());
        } else {
            m.data.extend_from_slice(bytes);
        }
    }
}

impl Current {
    /// The finished entry, or `None` for an empty one (a stray separator).
    fn finish(self) -> Option<MboxItem> {
        // The blank line before the next separator belongs to the format, not the message.
        let blank = if self.tail.ends_with(b"\r\n\r\n") {
            2
        } else if self.tail.ends_with(b"\n\n") {
            1
        } else {
            0
        };
        let bytes = self.bytes - blank;
        let mut m = self.data;
        if self.too_large.is_none() {
            m.truncate(m.len() - blank as usize);
        }
        if self.too_large.is_some() || bytes > self.max {
            let headers = self
                .too_large
                .unwrap_or_else(|| header_section(&m).to_vec());
            return Some(MboxItem::TooLarge {
                index: self.index,
                offset: self.offset,
                bytes,
                headers,
            });
        }
        (!m.iter().all(u8::is_ascii_whitespace)).then_some(MboxItem::Message(
            m,
            self.arrival,
            self.index,
        ))
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = io::Result<MboxItem>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line_start = self.at_line_start;
            match self.next_piece() {
                Err(e) => return Some(Err(e)),
                Ok(false) => return self.current.take().and_then(Current::finish).map(Ok),
                Ok(true) => {}
            }
            self.at_line_start = self.piece.ends_with(b"\n");
            if self.in_separator {
                self.in_separator = !self.at_line_start;
                continue;
            }
            let separator = line_start
                && self.piece.starts_with(b"From ")
                && (self.at_file_start || (self.prev_blank && is_separator(&self.piece)));
            self.at_file_start = false;
            if separator {
                self.prev_blank = false;
                self.in_separator = !self.at_line_start;
                let offset = self.offset - self.piece.len() as u64;
                let arrival = mbox_from_date(&self.piece);
                if let Some(done) = self.start_message(offset, arrival) {
                    return Some(Ok(done));
                }
                continue;
            }
            let piece = std::mem::take(&mut self.piece);
            self.prev_blank = line_start && (piece == b"\n" || piece == b"\r\n");
            let quoted = line_start && is_quoted_from(&piece);
            self.append(if quoted { &piece[1..] } else { &piece });
            self.piece = piece;
        }
    }
}

/// True for a line that looks like an mbox separator: `From `, an optional address, then
/// a ctime-style date (`Mon Nov  2 10:00:00 2026`, with or without seconds and a time zone).
pub fn is_separator(line: &[u8]) -> bool {
    static SEPARATOR: OnceLock<Regex> = OnceLock::new();
    SEPARATOR
        .get_or_init(|| {
            const MONTH: &str = "(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)";
            let pattern = format!(
                r"(?i-u)^From (?:[^\r\n]* )?(?:mon|tue|wed|thu|fri|sat|sun),? +(?:{MONTH} +\d{{1,2}}|\d{{1,2}} +{MONTH}) +\d{{1,2}}:\d\d(?::\d\d)?(?: +[^ \r\n]+)? +\d{{4}}(?: +[^ \r\n]+)? *\r?\n?$"
            );
            // The pattern is a constant: it compiles, as the tests below check.
            Regex::new(&pattern).expect("mbox separator pattern")
        })
        .is_match(line)
}

/// The header section at the start of `message`: up to and including the first empty line,
/// at most [`MAX_HEADERS`] bytes (cut at a line end when there is one).
pub fn header_section(message: &[u8]) -> &[u8] {
    let head = &message[..message.len().min(MAX_HEADERS)];
    let mut end = 0;
    for line in head.split_inclusive(|&b| b == b'\n') {
        if !line.ends_with(b"\n") {
            break;
        }
        end += line.len();
        if line == b"\n" || line == b"\r\n" {
            break;
        }
    }
    &head[..end]
}

/// `>From `, `>>From `, ...: a body line its writer quoted.
fn is_quoted_from(line: &[u8]) -> bool {
    let n = line.iter().take_while(|&&b| b == b'>').count();
    n > 0 && line[n..].starts_with(b"From ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(asctime: &str) -> Option<DateTime<Utc>> {
        mbox_from_date(format!("From x {asctime}\n").as_bytes())
    }

    fn read(data: &[u8], max: usize) -> Vec<MboxItem> {
        MboxReader::new(data, max).map(|i| i.unwrap()).collect()
    }

    fn messages(data: &[u8]) -> Vec<Vec<u8>> {
        read(data, usize::MAX)
            .into_iter()
            .map(|i| match i {
                MboxItem::Message(m, ..) => m,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn separators_need_an_address_and_a_date() {
        for line in [
            "From a@x Mon Nov  2 10:00:00 2026\n",
            "From MAILER-DAEMON Tue Nov 24 10:00:00 +0000 2026\r\n",
            "From - Tue Nov 24 10:00 2026",
            "From 1234@xxx Wed Dec 02 09:01:02 +0000 2026\n",
            "From \"john doe\"@x Thu 3 Dec 10:00:00 2026 +0100\n",
            "From  Fri Dec  4 10:00:00 2026\n",
        ] {
            assert!(is_separator(line.as_bytes()), "{line:?}");
        }
        for line in [
            "From here on not a separator\n",
            "From the start of 2026 we saw Mon Nov 2\n",
            "From: a@x\n",
            "From a@x yesterday at 10:00\n",
        ] {
            assert!(!is_separator(line.as_bytes()), "{line:?}");
        }
    }

    #[test]
    fn a_from_body_line_after_a_blank_line_stays_in_its_message() {
        let mbox = b"From a@x Mon Nov  2 10:00:00 2026\nSubject: one\n\nhi\n\nFrom the start, we saw this.\n>From quoted\n>>From twice\n\nFrom b@x Mon Nov  2 11:00:00 2026\nSubject: two\n\nbye\n";
        let msgs = messages(mbox);
        assert_eq!(msgs.len(), 2);
        assert_eq!(
            msgs[0],
            b"Subject: one\n\nhi\n\nFrom the start, we saw this.\nFrom quoted\n>From twice\n"
        );
        assert_eq!(msgs[1], b"Subject: two\n\nbye\n");
    }

    #[test]
    fn the_first_line_always_separates_and_crlf_is_kept() {
        let mbox = b"From whoever\r\nSubject: a\r\n\r\nb\r\n\r\nFrom x@y Mon Nov  2 10:00:00 2026\r\nSubject: c\r\n\r\nd\r\n";
        let msgs = messages(mbox);
        assert_eq!(
            msgs,
            vec![
                b"Subject: a\r\n\r\nb\r\n".to_vec(),
                b"Subject: c\r\n\r\nd\r\n".to_vec()
            ]
        );
    }

    #[test]
    fn an_oversized_message_is_counted_not_kept_and_the_next_survives() {
        let mut mbox = b"From a@x Mon Nov  2 10:00:00 2026\nSubject: big\n\n".to_vec();
        // One line longer than a piece; the size counts headers and the line, not the
        // format's blank line before the next separator.
        mbox.extend(vec![b'z'; 3 * MAX_PIECE]);
        mbox.extend_from_slice(b"\n\nFrom b@x Mon Nov  2 11:00:00 2026\nSubject: small\n\nok\n");
        let items = read(&mbox, MAX_PIECE);
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(
            items[0],
            MboxItem::TooLarge {
                index: 1,
                offset: 0,
                bytes: 3 * MAX_PIECE as u64 + 15,
                headers: b"Subject: big\n\n".to_vec(),
            }
        );
        assert_eq!(
            items[1],
            MboxItem::Message(
                b"Subject: small\n\nok\n".to_vec(),
                arrival("Mon Nov  2 11:00:00 2026"),
                2
            )
        );
    }

    #[test]
    fn a_message_of_exactly_the_limit_is_kept_whole_one_byte_over_is_not() {
        for eol in ["\n", "\r\n"] {
            let message = |id: &str, size: usize| {
                let head = format!("Subject: {id}{eol}{eol}");
                let fill = "b".repeat(size - head.len() - eol.len());
                format!("{head}{fill}{eol}").into_bytes()
            };
            let limit = 1000;
            let (exact, over) = (message("exact", limit), message("over", limit + 1));
            let sep = format!("From a@x Mon Nov  2 10:00:00 2026{eol}");
            // Each entry ends with the format's blank line, the last one too.
            let (sep, eol) = (sep.as_bytes(), eol.as_bytes());
            let mbox = [sep, &exact, eol, sep, &over, eol, sep, &exact, eol].concat();
            let items = read(&mbox, limit);
            assert_eq!(items.len(), 3, "{eol:?}: {items:?}");
            for at in [0, 2] {
                assert!(
                    matches!(&items[at], MboxItem::Message(m, ..) if *m == exact),
                    "{eol:?}: entry {at} of exactly {limit} bytes was not kept whole: {:?}",
                    items[at]
                );
            }
            assert!(
                matches!(&items[1], MboxItem::TooLarge { bytes, .. } if *bytes == limit as u64 + 1),
                "{eol:?}: {:?}",
                items[1]
            );
        }
    }

    #[test]
    fn a_file_that_ends_mid_line_names_its_last_entry() {
        let whole = b"From a@x Mon Nov  2 10:00:00 2026\nSubject: a\n\nb\n\nFrom b@x Mon Nov  2 11:00:00 2026\nSubject: c\n\nd\n";
        let mut reader = MboxReader::new(&whole[..], usize::MAX);
        assert_eq!(reader.by_ref().count(), 2);
        assert_eq!(reader.cut_short(), None);
        let cut = &whole[..whole.len() - 1];
        let mut reader = MboxReader::new(cut, usize::MAX);
        assert_eq!(reader.by_ref().count(), 2);
        assert_eq!(reader.cut_short(), Some(2));
    }

    #[test]
    fn a_piece_of_a_long_line_is_never_taken_for_a_separator() {
        // After a blank line, a line whose second piece reads like a separator.
        let mut line = vec![b'a'; MAX_PIECE];
        line.extend_from_slice(b"From x Mon Nov  2 10:00:00 2026\n");
        let mut mbox = b"From a@x Mon Nov  2 10:00:00 2026\nSubject: s\n\n".to_vec();
        mbox.extend_from_slice(&line);
        assert_eq!(
            messages(&mbox),
            vec![[b"Subject: s\n\n".as_slice(), &line].concat()]
        );
    }
}
