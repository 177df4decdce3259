//! The one keymap. It decides what a key means on each screen, and the same table drives
//! the footer hints and the `?` help overlay, so they cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for, before the state decides what that means for which reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    Search,
    MarkSpam,
    MarkInvalid,
    MarkValid,
    Assign,
    Take,
    ChangeState,
    Note,
    Duplicate,
    Reply,
    ToggleSelect,
    SelectScreen,
    Undo,
    Help,
    NextTab,
    PrevTab,
    ToggleSort,
    Stats,
    Quit,
    /// On the reply preview: send, edit again, cancel.
    SendReply,
    EditReply,
    CancelReply,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Queue,
    Report,
    /// The queue and the report view: triage keys act on the selection or the open report.
    Triage,
    /// The reply preview, over either screen.
    ReplyPreview,
    Everywhere,
}

/// One row of the keymap.
pub struct Binding {
    pub keys: &'static [KeyCode],
    /// How the keys are written in the help and the footer.
    pub label: &'static str,
    pub command: Command,
    pub scope: Scope,
    pub help: &'static str,
    /// The footer's short form; empty when the binding is only in the help overlay.
    pub hint: &'static str,
}

use KeyCode::{BackTab, Char, Down, End, Enter, Esc, Home, PageDown, PageUp, Tab, Up};

pub const KEYMAP: &[Binding] = &[
    bind(
        &[Char('j'), Down],
        "j/k",
        Command::Down,
        Scope::Everywhere,
        "move down",
        "move",
    ),
    bind(
        &[Char('k'), Up],
        "",
        Command::Up,
        Scope::Everywhere,
        "move up",
        "",
    ),
    bind(
        &[Char('g'), Home],
        "g/G",
        Command::Top,
        Scope::Everywhere,
        "first",
        "",
    ),
    bind(
        &[Char('G'), End],
        "",
        Command::Bottom,
        Scope::Everywhere,
        "last",
        "",
    ),
    bind(
        &[PageDown],
        "PgDn",
        Command::PageDown,
        Scope::Everywhere,
        "page down",
        "",
    ),
    bind(
        &[PageUp],
        "PgUp",
        Command::PageUp,
        Scope::Everywhere,
        "page up",
        "",
    ),
    bind(
        &[Enter],
        "Enter",
        Command::Open,
        Scope::Queue,
        "open the report",
        "open",
    ),
    bind(
        &[Char('q'), Esc],
        "q/Esc",
        Command::Back,
        Scope::Everywhere,
        "back (quit from the queue)",
        "back",
    ),
    bind(
        &[Char('/')],
        "/",
        Command::Search,
        Scope::Queue,
        "search subject, sender and body",
        "search",
    ),
    bind(
        &[Tab],
        "Tab",
        Command::NextTab,
        Scope::Queue,
        "next queue",
        "queues",
    ),
    bind(
        &[BackTab],
        "S-Tab",
        Command::PrevTab,
        Scope::Queue,
        "previous queue",
        "",
    ),
    bind(
        &[Char('o')],
        "o",
        Command::ToggleSort,
        Scope::Queue,
        "sort by age / by deadline",
        "sort",
    ),
    bind(
        &[Char('x')],
        "x",
        Command::ToggleSelect,
        Scope::Queue,
        "select / unselect",
        "select",
    ),
    bind(
        &[Char('X')],
        "X",
        Command::SelectScreen,
        Scope::Queue,
        "select every report on screen",
        "select screen",
    ),
    bind(
        &[Char('s')],
        "s",
        Command::MarkSpam,
        Scope::Triage,
        "mark spam (every selected report)",
        "spam",
    ),
    bind(
        &[Char('i')],
        "i",
        Command::MarkInvalid,
        Scope::Triage,
        "mark invalid, with a reason (every selected)",
        "invalid",
    ),
    bind(
        &[Char('v')],
        "v",
        Command::MarkValid,
        Scope::Triage,
        "mark valid",
        "valid",
    ),
    bind(
        &[Char('a')],
        "a",
        Command::Assign,
        Scope::Triage,
        "assign to a team member",
        "assign",
    ),
    bind(
        &[Char('t')],
        "t",
        Command::Take,
        Scope::Triage,
        "take (assign to me)",
        "take",
    ),
    bind(
        &[Char('S')],
        "S",
        Command::ChangeState,
        Scope::Triage,
        "change state",
        "state",
    ),
    bind(
        &[Char('n')],
        "n",
        Command::Note,
        Scope::Triage,
        "add a team note",
        "note",
    ),
    bind(
        &[Char('d')],
        "d",
        Command::Duplicate,
        Scope::Triage,
        "mark duplicate of another report",
        "dup",
    ),
    bind(
        &[Char('r')],
        "r",
        Command::Reply,
        Scope::Triage,
        "reply to the reporter",
        "reply",
    ),
    bind(
        &[Char('y')],
        "y",
        Command::SendReply,
        Scope::ReplyPreview,
        "reply preview: send the reply",
        "send",
    ),
    bind(
        &[Char('e')],
        "e",
        Command::EditReply,
        Scope::ReplyPreview,
        "reply preview: edit it again",
        "edit",
    ),
    bind(
        &[Char('n')],
        "n",
        Command::CancelReply,
        Scope::ReplyPreview,
        "reply preview: cancel (nothing is sent)",
        "cancel",
    ),
    bind(
        &[Char('u')],
        "u",
        Command::Undo,
        Scope::Triage,
        "undo the last action",
        "undo",
    ),
    bind(
        &[Char('T')],
        "T",
        Command::Stats,
        Scope::Queue,
        "stats",
        "stats",
    ),
    bind(
        &[Char('?')],
        "?",
        Command::Help,
        Scope::Everywhere,
        "this help",
        "help",
    ),
];

#[allow(clippy::too_many_arguments)]
const fn bind(
    keys: &'static [KeyCode],
    label: &'static str,
    command: Command,
    scope: Scope,
    help: &'static str,
    hint: &'static str,
) -> Binding {
    Binding {
        keys,
        label,
        command,
        scope,
        help,
        hint,
    }
}

/// The screen a key arrives on, for scoping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    Queue,
    Report,
    Stats,
    ReplyPreview,
}

fn applies(scope: Scope, at: Where) -> bool {
    match scope {
        Scope::Everywhere => true,
        Scope::Queue => at == Where::Queue,
        Scope::Report => at == Where::Report,
        Scope::Triage => matches!(at, Where::Queue | Where::Report),
        Scope::ReplyPreview => at == Where::ReplyPreview,
    }
}

/// What `key` means on screen `at`. Ctrl-C always quits.
pub fn command_for(key: &KeyEvent, at: Where) -> Option<Command> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return (key.code == Char('c')).then_some(Command::Quit);
    }
    KEYMAP
        .iter()
        .find(|b| applies(b.scope, at) && b.keys.contains(&key.code))
        .map(|b| b.command)
}

/// The footer: the hinted bindings that apply on screen `at`.
pub fn hints(at: Where) -> Vec<(&'static str, &'static str)> {
    // Help first: when the footer is cut off on a narrow terminal, `?` still shows the rest.
    let help = KEYMAP.iter().filter(|b| b.command == Command::Help);
    help.chain(KEYMAP.iter().filter(|b| b.command != Command::Help))
        .filter(|b| !b.hint.is_empty() && applies(b.scope, at))
        .map(|b| (b.label, b.hint))
        .collect()
}

/// The help overlay: every binding, as (keys, what it does).
pub fn help_lines() -> Vec<(String, &'static str)> {
    KEYMAP
        .iter()
        .map(|b| {
            let keys = b.keys.iter().map(key_name).collect::<Vec<_>>().join(" ");
            (keys, b.help)
        })
        .collect()
}

fn key_name(k: &KeyCode) -> String {
    match k {
        Char(c) => c.to_string(),
        Enter => "Enter".into(),
        Esc => "Esc".into(),
        Up => "↑".into(),
        Down => "↓".into(),
        Home => "Home".into(),
        End => "End".into(),
        PageUp => "PgUp".into(),
        PageDown => "PgDn".into(),
        Tab => "Tab".into(),
        BackTab => "Shift-Tab".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_means_one_thing_per_screen() {
        for at in [
            Where::Queue,
            Where::Report,
            Where::Stats,
            Where::ReplyPreview,
        ] {
            let mut seen = Vec::new();
            for b in KEYMAP.iter().filter(|b| applies(b.scope, at)) {
                for k in b.keys {
                    assert!(!seen.contains(k), "{k:?} bound twice on {at:?}");
                    seen.push(*k);
                }
            }
        }
    }

    #[test]
    fn issue_keys_are_bound() {
        let key = |c| KeyEvent::new(Char(c), KeyModifiers::NONE);
        assert_eq!(
            command_for(&key('s'), Where::Queue),
            Some(Command::MarkSpam)
        );
        assert_eq!(
            command_for(&key('S'), Where::Report),
            Some(Command::ChangeState)
        );
        assert_eq!(
            command_for(&key('x'), Where::Queue),
            Some(Command::ToggleSelect)
        );
        assert_eq!(command_for(&key('s'), Where::Stats), None);
        assert_eq!(command_for(&key('r'), Where::Queue), Some(Command::Reply));
        assert_eq!(
            command_for(&key('y'), Where::ReplyPreview),
            Some(Command::SendReply)
        );
        assert_eq!(command_for(&key('n'), Where::Report), Some(Command::Note));
        assert!(help_lines()
            .iter()
            .any(|(k, h)| k == "u" && h.contains("undo")));
    }
}
