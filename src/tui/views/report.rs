//! The report view: the report's triage fields, why the classifier said what it said, the
//! replies of ours still in the outbox (queued or refused), the whole thread (reporter mail,
//! our replies and team notes each drawn differently) and the audit log, in one scrolling
//! page.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::{class_span, due, safe};
use crate::core::outbox;
use crate::core::sanitize::terminal_text;
use crate::core::triage::view::MessageView;
use crate::tui::app::State;
use crate::tui::desk::{Detail, ThreadItem};
use crate::tui::text;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let Some(d) = state.report.as_deref() else {
        frame.render_widget(Paragraph::new(text::LOADING), area);
        return;
    };
    let title = format!(" #{} {} ", d.id(), safe(&d.report.subject));
    let paragraph = Paragraph::new(lines(d, state))
        .block(Block::default().borders(Borders::TOP).title(title))
        .wrap(Wrap { trim: false })
        .scroll((state.report_scroll, 0));
    frame.render_widget(paragraph, area);
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

fn lines<'a>(d: &'a Detail, state: &State) -> Vec<Line<'a>> {
    let r = &d.report;
    let mut out = Vec::new();
    let mut state_text = r.state.to_string();
    if let Some(reason) = r.invalid_reason {
        state_text += &format!(" ({reason})");
    }
    if let Some(of) = r.duplicate_of {
        state_text += &format!(" of #{of}");
    }
    out.push(field("State", state_text));
    let c = &r.classifier;
    let class = r.class.map(|c| c.as_str()).or(c.class.as_deref());
    out.push(field(
        "Class",
        class_span(class, c.outcome.as_deref(), c.confidence, r.class_confirmed),
    ));
    out.push(field(
        "Coordinator",
        r.coordinator.clone().unwrap_or_else(|| text::NOBODY.into()),
    ));
    out.push(field("Received", r.created_at.clone()));
    if let Some(deadline) = d.deadline {
        let (due_text, late) = due(state.now, deadline);
        let style = if late {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        out.push(field(
            "Next clock",
            Span::styled(
                format!("{} ({due_text})", deadline.format("%Y-%m-%d %H:%M")),
                style,
            ),
        ));
    }
    if !r.duplicates.is_empty() {
        let list: Vec<String> = r.duplicates.iter().map(|i| format!("#{i}")).collect();
        out.push(field("Duplicates", list.join(" ")));
    }
    if r.flagged {
        out.push(field(
            "Flag",
            Span::styled(text::REPORTER_ANSWERED, Style::new().fg(Color::Cyan)),
        ));
    }
    if !c.reasons.is_empty() || c.score.is_some() {
        out.push(Line::raw(""));
        out.push(section(text::WHY_CLASS));
        if let Some(score) = c.score {
            out.push(Line::raw(format!("  spam score {score:.2}")));
        }
        for reason in &c.reasons {
            out.push(Line::raw(format!("  • {}", safe(reason))));
        }
    }
    if !d.outbox.is_empty() {
        out.push(Line::raw(""));
        out.push(section(text::OUTBOX_SECTION));
        for o in &d.outbox {
            let style = if o.state == outbox::state::FAILED_PERMANENT {
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
                        &o.state,
                        o.attempts,
                        o.last_error.as_deref()
                    ))
                ),
                style,
            )));
        }
    }
    out.push(Line::raw(""));
    out.push(section(&text::thread_title(d.thread.len())));
    for item in &d.thread {
        match item {
            ThreadItem::Mail(m) => mail_lines(&mut out, m),
            ThreadItem::Note(n) => {
                let style = Style::new().fg(Color::Yellow);
                out.push(Line::from(Span::styled(
                    format!("✎ {} — {} — {}", text::THREAD_NOTE, safe(&n.author), n.at),
                    style.add_modifier(Modifier::BOLD),
                )));
                for l in terminal_text(&n.text).lines() {
                    out.push(Line::from(Span::styled(format!("│ {l}"), style)));
                }
            }
        }
        out.push(Line::raw(""));
    }
    out.push(section(text::AUDIT_LOG));
    for e in &r.events {
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
    out
}

fn mail_lines<'a>(out: &mut Vec<Line<'a>>, m: &'a MessageView) {
    let (mark, who, colour) = if m.direction == "out" {
        ("◀", text::THREAD_OUT, Color::Green)
    } else if m.another_sender {
        ("▶", text::THREAD_ANOTHER_SENDER, Color::Red)
    } else {
        ("▶", text::THREAD_IN, Color::Cyan)
    };
    let head = Style::new().fg(colour).add_modifier(Modifier::BOLD);
    out.push(Line::from(Span::styled(
        format!("{mark} {who} — {} — {}", safe(&m.from), m.date),
        head,
    )));
    let dim = Style::new().fg(Color::DarkGray);
    out.push(Line::from(Span::styled(
        format!("  Subject: {}", safe(&m.subject)),
        dim,
    )));
    if !m.to.is_empty() {
        out.push(Line::from(Span::styled(
            format!("  To: {}", safe(&m.to.join(", "))),
            dim,
        )));
    }
    if !m.cc.is_empty() {
        out.push(Line::from(Span::styled(
            format!("  Cc: {}", safe(&m.cc.join(", "))),
            dim,
        )));
    }
    let auth: Vec<String> = [
        ("SPF", &m.auth.spf),
        ("DKIM", &m.auth.dkim),
        ("DMARC", &m.auth.dmarc),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| format!("{k} {}", safe(v))))
    .collect();
    if !auth.is_empty() {
        out.push(Line::from(Span::styled(
            format!("  Auth: {}", auth.join(", ")),
            dim,
        )));
    }
    for a in &m.attachments {
        let (name, kind, size) = (&a.name, &a.content_type, a.size);
        out.push(Line::from(Span::styled(
            format!(
                "  📎 {} ({}, {} bytes)",
                safe(name.as_deref().unwrap_or("(unnamed)")),
                safe(kind),
                size
            ),
            Style::new().fg(Color::Magenta),
        )));
    }
    for n in &m.parse_notes {
        out.push(Line::from(Span::styled(
            format!("  ⚠ {}", safe(n)),
            Style::new().fg(Color::Red),
        )));
    }
    let bar = Style::new().fg(colour);
    for l in terminal_text(&m.body).replace('\t', "    ").lines() {
        out.push(Line::from(vec![
            Span::styled("┃ ", bar),
            Span::raw(l.to_string()),
        ]));
    }
}
