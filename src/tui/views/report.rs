//! The report view: the report's triage fields, why the classifier said what it said, the
//! whole thread (reporter mail, our replies and team notes each drawn differently) and the
//! audit log, in one scrolling page.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::{class_span, due, safe};
use crate::core::sanitize::terminal_text;
use crate::tui::app::State;
use crate::tui::desk::{Detail, Mail, ThreadItem};
use crate::tui::text;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let Some(d) = state.report.as_deref() else {
        frame.render_widget(Paragraph::new(text::LOADING), area);
        return;
    };
    let title = first_subject(d)
        .map(|s| format!(" #{} {} ", d.id, safe(s)))
        .unwrap_or_else(|| format!(" #{} ", d.id));
    let paragraph = Paragraph::new(lines(d, state))
        .block(Block::default().borders(Borders::TOP).title(title))
        .wrap(Wrap { trim: false })
        .scroll((state.report_scroll, 0));
    frame.render_widget(paragraph, area);
}

fn first_subject(d: &Detail) -> Option<&str> {
    d.thread.iter().find_map(|t| match t {
        ThreadItem::Mail(m) => Some(m.subject.as_str()),
        ThreadItem::Note { .. } => None,
    })
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
    let mut out = Vec::new();
    let mut state_text = d.state.clone();
    if let Some(r) = &d.invalid_reason {
        state_text += &format!(" ({r})");
    }
    if let Some(of) = d.duplicate_of {
        state_text += &format!(" of #{of}");
    }
    out.push(field("State", state_text));
    out.push(field(
        "Class",
        class_span(
            d.class.as_deref(),
            d.outcome.as_deref(),
            d.confidence,
            d.class_confirmed,
        ),
    ));
    out.push(field(
        "Coordinator",
        d.coordinator.clone().unwrap_or_else(|| "nobody".into()),
    ));
    out.push(field("Received", d.created_at.clone()));
    if let Some(deadline) = d.deadline {
        let (text, late) = due(state.now, deadline);
        let style = if late {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        out.push(field(
            "Next clock",
            Span::styled(
                format!("{} ({text})", deadline.format("%Y-%m-%d %H:%M")),
                style,
            ),
        ));
    }
    if !d.duplicates.is_empty() {
        let list: Vec<String> = d.duplicates.iter().map(|i| format!("#{i}")).collect();
        out.push(field("Duplicates", list.join(" ")));
    }
    if d.flagged {
        out.push(field(
            "Flag",
            Span::styled("the reporter answered", Style::new().fg(Color::Cyan)),
        ));
    }
    if !d.reasons.is_empty() || d.spam_score.is_some() {
        out.push(Line::raw(""));
        out.push(section("Why the classifier said so"));
        if let Some(score) = d.spam_score {
            out.push(Line::raw(format!("  spam score {score:.2}")));
        }
        for r in &d.reasons {
            out.push(Line::raw(format!("  • {}", safe(r))));
        }
    }
    out.push(Line::raw(""));
    out.push(section(&format!("Thread ({} items)", d.thread.len())));
    for item in &d.thread {
        match item {
            ThreadItem::Mail(m) => mail_lines(&mut out, m),
            ThreadItem::Note {
                author,
                at,
                text: body,
            } => {
                let style = Style::new().fg(Color::Yellow);
                out.push(Line::from(Span::styled(
                    format!("✎ {} — {} — {}", text::THREAD_NOTE, safe(author), at),
                    style.add_modifier(Modifier::BOLD),
                )));
                for l in terminal_text(body).lines() {
                    out.push(Line::from(Span::styled(format!("│ {l}"), style)));
                }
            }
        }
        out.push(Line::raw(""));
    }
    out.push(section("Audit log"));
    for e in &d.events {
        let change = match (&e.before, &e.after) {
            (Some(b), Some(a)) => format!("{} → {}", safe(b), safe(a)),
            (None, Some(a)) => safe(a),
            (Some(b), None) => format!("{} → none", safe(b)),
            (None, None) => String::new(),
        };
        out.push(Line::raw(format!(
            "  {}  {:<20} {:<12} {change}",
            e.at,
            safe(&e.actor),
            e.kind
        )));
    }
    out
}

fn mail_lines<'a>(out: &mut Vec<Line<'a>>, m: &'a Mail) {
    let (mark, who, colour) = if m.ours {
        ("◀", text::THREAD_OUT, Color::Green)
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
    if !m.auth.is_empty() {
        let auth: Vec<String> = m
            .auth
            .iter()
            .map(|(k, v)| format!("{k} {}", safe(v)))
            .collect();
        out.push(Line::from(Span::styled(
            format!("  Auth: {}", auth.join(", ")),
            dim,
        )));
    }
    for (name, kind, size) in &m.attachments {
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
    for n in &m.notes {
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
