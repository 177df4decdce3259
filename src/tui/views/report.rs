//! The report view: the report's triage fields in two lines, then the mail. Why the
//! classifier said what it said is one folded line (`w` unfolds it); then the replies of
//! ours still in the outbox (queued or refused), the whole thread (reporter mail, our
//! replies and team notes each drawn differently) and the audit log, in one scrolling page
//! that stops when its last line reaches the bottom of the screen.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::{class_span, due, safe};
use crate::core::outbox;
use crate::core::pgp::{PgpInfo, Signature};
use crate::core::sanitize::terminal_text;
use crate::core::triage::view::{AttachmentView, MessageView};
use crate::tui::app::{State, REPORT_CHROME};
use crate::tui::text;
use crate::tui::view_model::{Detail, ThreadItem};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let Some(d) = state.report.as_deref() else {
        frame.render_widget(Paragraph::new(text::LOADING), area);
        return;
    };
    let mut title = vec![Span::raw(format!(
        " #{} {} ",
        d.id(),
        super::safe_cell(&d.report.subject)
    ))];
    // A bad signature stays in sight however far the report is scrolled (issue 16).
    if bad_signature(d) {
        title.insert(0, Span::styled(text::BAD_SIGNATURE_TITLE, alarm()));
    }
    let paragraph = Paragraph::new(lines(d, state))
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(Line::from(title)),
        )
        .wrap(Wrap { trim: false })
        .scroll((state.report_scroll, 0));
    frame.render_widget(paragraph, area);
}

/// The screen rows the report view's text takes at the current width.
fn text_rows(state: &State) -> Option<usize> {
    let d = state.report.as_deref()?;
    let width = state.width.max(1);
    Some(
        Paragraph::new(lines(d, state))
            .wrap(Wrap { trim: false })
            .line_count(width),
    )
}

/// The furthest the report view scrolls: its last line at the bottom of the screen.
pub fn max_scroll(state: &State) -> u16 {
    let shown = state.height.saturating_sub(REPORT_CHROME) as usize;
    text_rows(state)
        .map(|rows| rows.saturating_sub(shown).min(u16::MAX as usize) as u16)
        .unwrap_or(0)
}

/// Every line of the report view holding `needle` (ignoring case), as (line index, the
/// screen row it starts on at the current width), top to bottom.
pub fn find_hits(state: &State, needle: &str) -> Vec<(usize, u16)> {
    let Some(d) = state.report.as_deref() else {
        return Vec::new();
    };
    let width = state.width.max(1);
    let needle = needle.to_lowercase();
    let mut row = 0usize;
    let mut hits = Vec::new();
    for (i, line) in raw_lines(d, state).into_iter().enumerate() {
        if plain(&line).to_lowercase().contains(&needle) {
            hits.push((i, row.min(u16::MAX as usize) as u16));
        }
        row += Paragraph::new(line)
            .wrap(Wrap { trim: false })
            .line_count(width);
    }
    hits
}

fn plain(line: &Line) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// The report's lines with the search's matches marked: the current one reversed, the
/// others underlined.
fn lines<'a>(d: &'a Detail, state: &State) -> Vec<Line<'a>> {
    let out = raw_lines(d, state);
    let Some(needle) = state.find.as_deref().map(str::to_lowercase) else {
        return out;
    };
    out.into_iter()
        .enumerate()
        .map(|(i, line)| {
            if !plain(&line).to_lowercase().contains(&needle) {
                line
            } else if state.find_at == Some(i) {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line.style(Style::new().add_modifier(Modifier::UNDERLINED))
            }
        })
        .collect()
}

fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

fn field<'a>(name: &'a str, value: impl Into<Span<'a>>) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{name:<12}"), bold()),
        value.into(),
    ])
}

fn section(title: &str) -> Line<'static> {
    Line::from(Span::styled(format!("── {title} "), bold().fg(Color::Blue)))
}

/// Whether any message of the report has a signature that does not verify.
fn bad_signature(d: &Detail) -> bool {
    d.report
        .messages
        .iter()
        .any(|m| m.pgp.signature == Signature::Bad)
}

/// White on red: what must not be missed.
fn alarm() -> Style {
    Style::new()
        .fg(Color::White)
        .bg(Color::Red)
        .add_modifier(Modifier::BOLD)
}

/// Every line of the report view, top to bottom.
fn raw_lines<'a>(d: &'a Detail, state: &State) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    header_lines(&mut out, d, state);
    notice_lines(&mut out, d);
    reason_lines(&mut out, d, state);
    outbox_lines(&mut out, d);
    thread_lines(&mut out, d, state);
    audit_lines(&mut out, d);
    out
}

/// Red, bold: a deadline passed, an embargo warning.
fn urgent() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

/// The bad-signature banner, then state, class and coordinator, then when it came and
/// when it is due.
fn header_lines(out: &mut Vec<Line<'_>>, d: &Detail, state: &State) {
    let r = &d.report;
    if bad_signature(d) {
        out.push(Line::from(Span::styled(
            text::BAD_SIGNATURE_BANNER,
            alarm(),
        )));
    }
    let mut state_text = r.state.to_string();
    if let Some(reason) = r.invalid_reason {
        state_text += &format!(" ({reason})");
    }
    if let Some(of) = r.duplicate_of {
        state_text += &format!(" of #{of}");
    }
    let c = &r.classifier;
    let class = r.class.map(|c| c.as_str()).or(c.class.as_deref());
    // A class a person confirmed is the answer; the classifier's guess shows only while the
    // report waits for triage.
    let class_cell = if r.class_confirmed {
        class_span(class, None, None, true)
    } else if r.state != crate::core::model::ReportState::New {
        class_span(None, None, None, false)
    } else {
        class_span(class, c.outcome.as_deref(), c.confidence, false)
    };
    // The queue pads the cell to line its figures up; here it stands alone: `valid? 91%`.
    let class_cell = Span::styled(
        class_cell
            .content
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        class_cell.style,
    );
    out.push(Line::from(vec![
        Span::styled("State ", bold()),
        Span::raw(format!("{state_text}   ")),
        Span::styled("Class ", bold()),
        class_cell,
        Span::styled("   Coordinator ", bold()),
        Span::raw(r.coordinator.clone().unwrap_or_else(|| text::NOBODY.into())),
    ]));
    let received = crate::core::store::parse_timestamp(&r.created_at)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| r.created_at.clone());
    let mut second = vec![Span::styled("Received ", bold()), Span::raw(received)];
    if let Some(deadline) = d.deadline {
        let (due_text, late) = due(state.now, deadline);
        let style = if late {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        second.push(Span::styled("   Due ", bold()));
        second.push(Span::styled(
            format!("{} ({due_text})", deadline.format("%m-%d %H:%M")),
            style,
        ));
    }
    if let Some(mark) = &d.finish_mark {
        second.push(Span::raw("   "));
        second.push(Span::styled(mark.clone(), urgent()));
    }
    out.push(Line::from(second));
}

/// What stands out about the report: its embargo, who is replying, similar reports,
/// duplicates, the reporter's answer.
fn notice_lines(out: &mut Vec<Line<'_>>, d: &Detail) {
    let r = &d.report;
    if let Some(e) = &d.embargo {
        let until = crate::core::store::parse_timestamp(&e.until)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| e.until.clone());
        out.push(field(
            "Embargo",
            Span::styled(
                format!("{} (until {until})", text::embargo_left(e.days_left)),
                Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            ),
        ));
        for w in &e.warnings {
            out.push(Line::from(Span::styled(format!("  ⚠ {w}"), urgent())));
        }
    }
    if let Some(line) = &d.replying {
        out.push(field(
            "Replying",
            Span::styled(
                safe(line),
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
        ));
    }
    if !d.similar.is_empty() {
        let list: Vec<String> = d
            .similar
            .iter()
            .map(|s| format!("#{} {}", s.id, text::similar_mark(s.score).trim_end()))
            .collect();
        out.push(field(
            "Similar",
            Span::styled(
                format!("{} — {}", list.join(" · "), text::SIMILAR_HINT),
                Style::new().fg(Color::Yellow),
            ),
        ));
    }
    if !r.duplicates.is_empty() {
        let list: Vec<String> = r.duplicates.iter().map(|i| format!("#{i}")).collect();
        out.push(field("Duplicates", list.join(" ")));
    }
    // Two members' changes would have hidden it behind spam (docs/team.md): why it is open.
    for e in r.events.iter().filter(|e| {
        e.kind == "conflict" && e.before.as_deref() == Some(crate::core::team::hold::HELD_MARK)
    }) {
        out.push(field(
            "Held open",
            Span::styled(
                safe(e.detail.as_deref().unwrap_or("-")),
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
        ));
    }
    if r.flagged {
        out.push(field(
            "Flag",
            Span::styled(text::REPORTER_ANSWERED, Style::new().fg(Color::Cyan)),
        ));
    }
}

/// Why the classifier says what it says, folded unless `w` unfolded it.
fn reason_lines(out: &mut Vec<Line<'_>>, d: &Detail, state: &State) {
    let c = &d.report.classifier;
    if !c.reasons.is_empty() || c.score.is_some() {
        let score = c
            .score
            .map(|s| format!("spam score {s:.2} · "))
            .unwrap_or_default();
        if state.show_reasons {
            out.push(section(&format!("{}: {score}w folds", text::WHY_CLASS)));
            for reason in &c.reasons {
                out.push(Line::raw(format!("  • {}", safe(reason))));
            }
        } else {
            out.push(section(&format!(
                "{}: {score}{}",
                text::WHY_CLASS,
                text::reasons_folded(c.reasons.len())
            )));
        }
    }
}

/// Our replies to it still in the outbox.
fn outbox_lines(out: &mut Vec<Line<'_>>, d: &Detail) {
    if !d.outbox.is_empty() {
        out.push(Line::raw(""));
        out.push(section(text::OUTBOX_SECTION));
        for o in &d.outbox {
            let style = if o.state == outbox::OutboxState::FailedPermanent {
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::new().fg(Color::Yellow)
            };
            out.push(Line::from(Span::styled(
                format!(
                    "  ✉ {} — {}",
                    safe(&o.subject),
                    safe(&text::outbox_line(
                        o.id,
                        o.state.as_str(),
                        o.attempts,
                        o.last_error.as_deref()
                    ))
                ),
                style,
            )));
        }
    }
}

/// The messages and team notes, in the order they happened.
fn thread_lines<'a>(out: &mut Vec<Line<'a>>, d: &'a Detail, state: &State) {
    out.push(section(&text::thread_title(d.thread.len())));
    for item in &d.thread {
        match item {
            ThreadItem::Mail(m) => mail_lines(out, m, &d.report.subject, state.width as usize),
            ThreadItem::Note(n) => {
                let style = Style::new().fg(Color::Yellow);
                out.push(Line::from(Span::styled(
                    format!("✎ {} — {} — {}", text::THREAD_NOTE, safe(&n.author), n.at),
                    style.add_modifier(Modifier::BOLD),
                )));
                for l in terminal_text(&n.text).lines() {
                    for row in super::wrap(l, (state.width as usize).saturating_sub(2)) {
                        out.push(Line::from(Span::styled(format!("│ {row}"), style)));
                    }
                }
            }
        }
        out.push(Line::raw(""));
    }
}

/// The audit log, oldest first.
fn audit_lines(out: &mut Vec<Line<'_>>, d: &Detail) {
    out.push(section(text::AUDIT_LOG));
    for e in &d.report.events {
        let change = match (&e.before, &e.after) {
            (Some(b), Some(a)) => format!("{} → {}", safe(b), safe(a)),
            (None, Some(a)) => safe(a),
            (Some(b), None) => format!("{} → none", safe(b)),
            (None, None) => String::new(),
        };
        let detail = e
            .detail
            .as_deref()
            .map(|d| format!(" ({})", safe(d)))
            .unwrap_or_default();
        out.push(Line::raw(format!(
            "  {}  {:<20} {:<12} {change}{detail}",
            e.at,
            safe(&e.actor),
            e.kind
        )));
    }
}

/// One message of the thread; its subject only when it differs from the report's.
fn mail_lines<'a>(out: &mut Vec<Line<'a>>, m: &'a MessageView, subject: &str, width: usize) {
    let (mark, who, colour) = if m.direction == "out" {
        ("◀", text::THREAD_OUT, Color::Green)
    } else if m.another_sender {
        ("▶", text::THREAD_ANOTHER_SENDER, Color::Red)
    } else if m.from_team {
        ("◀", text::THREAD_TEAM, Color::Green)
    } else {
        ("▶", text::THREAD_IN, Color::Cyan)
    };
    let head = Style::new().fg(colour).add_modifier(Modifier::BOLD);
    out.extend(heading(
        &format!("{mark} {who} — "),
        &m.from,
        &m.date,
        head,
        width,
    ));
    mail_header_lines(out, m, subject, width);
    out.extend(pgp_line(m));
    for a in &m.attachments {
        rows(
            out,
            &attachment_text(a),
            Style::new().fg(Color::Magenta),
            width,
            INDENT,
        );
    }
    for n in &m.parse_notes {
        let note = format!("  ⚠ {}", safe(n));
        rows(out, &note, Style::new().fg(Color::Red), width, INDENT);
    }
    let bar = Style::new().fg(colour);
    for l in terminal_text(&m.body).replace('\t', "    ").lines() {
        for row in super::wrap(l, width.saturating_sub(2)) {
            out.push(Line::from(vec![Span::styled("┃ ", bar), Span::raw(row)]));
        }
    }
}

/// How far the rows a heading or header line wraps onto are indented: further than any
/// line of the view starts, so text from the mail can never pass for a line of its own
/// (a display name padded to the width, then "┃ I withdraw this report").
const INDENT: &str = "      ";

/// `text` in `style`, wrapped to `width` here rather than by the terminal: the rows after
/// the first start with `indent`.
fn rows(out: &mut Vec<Line<'_>>, text: &str, style: Style, width: usize, indent: &str) {
    let rows = super::wrap(text, width.saturating_sub(indent.len()).max(8));
    for (i, row) in rows.into_iter().enumerate() {
        let row = if i == 0 {
            row
        } else {
            format!("{indent}{row}")
        };
        out.push(Line::from(Span::styled(row, style)));
    }
}

/// A message's heading on one row: `▶ reporter — Name <address> — date`, the display name
/// (the sender's to choose) cut to what the row leaves, so it can neither push the address
/// and date out of sight nor wrap into rows that pass for lines of the view. On a narrow
/// screen the date goes on a second row; too narrow even for the address, it wraps,
/// indented.
fn heading(lead: &str, from: &str, date: &str, style: Style, width: usize) -> Vec<Line<'static>> {
    let from = super::safe_cell(from);
    let (name, address) = match from.rfind(" <") {
        Some(at) if from.ends_with('>') => (&from[..at], &from[at..]),
        _ => ("", from.as_str()),
    };
    let tail = format!("{address} — {date}");
    let fixed = super::cells(lead) + super::cells(&tail);
    if fixed < width {
        let name = super::fit(name, width - fixed);
        return vec![Line::from(Span::styled(
            format!("{lead}{name}{tail}"),
            style,
        ))];
    }
    let mut out = Vec::new();
    rows(
        &mut out,
        &format!("{lead}{name}{tail}"),
        style,
        width,
        INDENT,
    );
    out
}

/// The dim lines under a message's heading: its subject when it differs from the report's,
/// To, Cc, and the sender authentication results.
fn mail_header_lines(out: &mut Vec<Line<'_>>, m: &MessageView, subject: &str, width: usize) {
    let dim = Style::new().fg(Color::DarkGray);
    if m.subject != subject {
        let line = format!("  Subject: {}", safe(&m.subject));
        rows(out, &line, dim, width, INDENT);
    }
    if !m.to.is_empty() {
        let line = format!("  To: {}", safe(&m.to.join(", ")));
        rows(out, &line, dim, width, INDENT);
    }
    if !m.cc.is_empty() {
        let line = format!("  Cc: {}", safe(&m.cc.join(", ")));
        rows(out, &line, dim, width, INDENT);
    }
    if let Some(auth) = m.auth.line() {
        // A verdict nothing shows to be the receiving server's is not drawn as quietly.
        let style = if m.auth.verified {
            dim
        } else {
            Style::new().fg(Color::Yellow)
        };
        rows(out, &format!("  {}", safe(&auth)), style, width, INDENT);
    }
}

/// The OpenPGP line, coloured by the signature, when the message was encrypted or signed
/// at all.
fn pgp_line(m: &MessageView) -> Option<Line<'static>> {
    if m.pgp == PgpInfo::default() {
        return None;
    }
    let style = match m.pgp.signature {
        Signature::Bad => alarm(),
        Signature::Good if !m.pgp.signer_not_sender => Style::new().fg(Color::Green),
        _ => Style::new().fg(Color::Yellow),
    };
    Some(Line::from(Span::styled(
        format!("  {}", safe(&m.pgp.line())),
        style,
    )))
}

/// One attachment: name, type and size, and a hint when it holds a public key `K` imports.
fn attachment_text(a: &AttachmentView) -> String {
    let (name, kind, size) = (&a.name, &a.content_type, a.size);
    format!(
        "  📎 {} ({}, {} bytes){}",
        safe(name.as_deref().unwrap_or("(unnamed)")),
        safe(kind),
        size,
        if a.public_key {
            " · public key attached: K imports it (asks first)"
        } else {
            ""
        }
    )
}
