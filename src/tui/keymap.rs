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
    HalfPageUp,
    HalfPageDown,
    Open,
    /// Esc: closes what is open (a view, the selection, the search); never quits.
    Close,
    /// q: back to the queue, and from the queue quits (asking first over a selection).
    Back,
    Search,
    NextMatch,
    PrevMatch,
    MarkSpam,
    MarkInvalid,
    MarkValid,
    Assign,
    Take,
    ChangeState,
    Note,
    Duplicate,
    Reply,
    /// Record a first response given outside secdesk.
    Answered,
    /// Edit the report's advisory fields as a TOML form in $EDITOR.
    Advisory,
    /// `K`: import the public key attached to the report (issue 16).
    ImportKey,
    ToggleSelect,
    SelectScreen,
    Undo,
    Help,
    Messages,
    CommandLine,
    ToggleReasons,
    NextTab,
    PrevTab,
    ToggleSort,
    Stats,
    /// On the stats screen: the chart by month or by week.
    ToggleMonthly,
    /// The mailing list's hold queue, and on it: accept, discard as spam, defer, reject with
    /// a reason, sweep the spam.
    Held,
    HeldAccept,
    HeldDiscard,
    HeldDefer,
    HeldReject,
    HeldSweep,
    Quit,
    /// Keys inside a prompt or a picker: listed in the help, handled by the prompt itself.
    InPrompt,
    /// On the reply preview (and the reject reason's): send, edit again, cancel.
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
    /// The stats screen.
    Stats,
    /// The held screen.
    Held,
    /// The queue, the report view and the stats screen (not the reply preview).
    Screens,
    /// The motions: every screen, and the previews (a reply longer than the box scrolls).
    Motions,
    /// Inside a prompt or picker: in the help only (`prompts` and `pickers` handle them).
    Prompt,
    Everywhere,
}

/// A key: its code, and whether Ctrl is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub KeyCode, pub bool);

const fn k(code: KeyCode) -> Key {
    Key(code, false)
}

const fn ctrl(c: char) -> Key {
    Key(Char(c), true)
}

/// One row of the keymap.
pub struct Binding {
    pub keys: &'static [Key],
    /// How the keys are written in the footer.
    pub label: &'static str,
    pub command: Command,
    pub scope: Scope,
    pub help: &'static str,
    /// The footer's short form; empty when the binding is only in the help overlay.
    pub hint: &'static str,
    /// The footer shows the lowest ranks first, as many as fit.
    pub rank: u8,
}

use KeyCode::{BackTab, Char, Down, End, Enter, Esc, Home, PageDown, PageUp, Tab, Up};

/// Ranks hints never reach: the binding is in the help only.
const HELP_ONLY: u8 = u8::MAX;

#[rustfmt::skip]
pub const KEYMAP: &[Binding] = &[
    bind(&[k(Char('?'))], "?", Command::Help, Scope::Everywhere, "this help (j/k scroll it)", "help", 0),
    bind(&[k(Char('j')), k(Down)], "j/k", Command::Down, Scope::Motions, "move down; scroll a preview (5j: five)", "move", 30),
    bind(&[k(Char('k')), k(Up)], "", Command::Up, Scope::Motions, "move up", "", HELP_ONLY),
    bind(&[k(Char('g')), k(Home)], "g/G", Command::Top, Scope::Motions, "first", "", HELP_ONLY),
    bind(&[k(Char('G')), k(End)], "", Command::Bottom, Scope::Motions, "last", "", HELP_ONLY),
    bind(&[ctrl('f'), k(PageDown), k(Char(' '))], "Space", Command::PageDown, Scope::Motions, "page down", "", HELP_ONLY),
    bind(&[ctrl('b'), k(PageUp)], "", Command::PageUp, Scope::Motions, "page up", "", HELP_ONLY),
    bind(&[ctrl('d')], "", Command::HalfPageDown, Scope::Motions, "half a page down", "", HELP_ONLY),
    bind(&[ctrl('u')], "", Command::HalfPageUp, Scope::Motions, "half a page up", "", HELP_ONLY),
    bind(&[k(Enter)], "Enter", Command::Open, Scope::Queue, "open the report", "open", 1),
    bind(&[k(Esc)], "Esc", Command::Close, Scope::Screens, "close view/selection/search (not quit)", "", HELP_ONLY),
    bind(&[k(Char('q'))], "q", Command::Back, Scope::Screens, "back; quit from the queue", "back", 9),
    bind(&[k(Char('/'))], "/", Command::Search, Scope::Triage, "search (queue: mail; report: its text)", "search", 12),
    bind(&[k(Char('n'))], "n/N", Command::NextMatch, Scope::Triage, "next match of the search", "", HELP_ONLY),
    bind(&[k(Char('N'))], "", Command::PrevMatch, Scope::Triage, "previous match of the search", "", HELP_ONLY),
    bind(&[k(Tab)], "Tab", Command::NextTab, Scope::Queue, "next queue", "queues", 11),
    bind(&[k(BackTab)], "S-Tab", Command::PrevTab, Scope::Queue, "previous queue", "", HELP_ONLY),
    bind(&[k(Char('o'))], "o", Command::ToggleSort, Scope::Queue, "sort by age / by deadline", "sort", 25),
    bind(&[k(Char('x'))], "x", Command::ToggleSelect, Scope::Queue, "select / unselect", "select", 13),
    bind(&[k(Char('X'))], "X", Command::SelectScreen, Scope::Queue, "select every report on screen", "select screen", 24),
    bind(&[k(Char('s'))], "s", Command::MarkSpam, Scope::Triage, "mark spam (a mixed selection asks)", "spam", 2),
    bind(&[k(Char('i'))], "i", Command::MarkInvalid, Scope::Triage, "mark invalid, with a reason (selection)", "invalid", 4),
    bind(&[k(Char('v'))], "v", Command::MarkValid, Scope::Triage, "mark valid (the class; not a response)", "valid", 3),
    bind(&[k(Char('a'))], "a", Command::Assign, Scope::Triage, "assign to a team member", "assign", 10),
    bind(&[k(Char('t'))], "t", Command::Take, Scope::Triage, "take (assign to me)", "take", 21),
    bind(&[k(Char('S'))], "S", Command::ChangeState, Scope::Triage, "change state", "state", 10),
    bind(&[k(Char('c'))], "c", Command::Note, Scope::Triage, "add a team note (comment)", "note", 22),
    bind(&[k(Char('d'))], "d", Command::Duplicate, Scope::Triage, "duplicate of… (pick by subject or #id)", "dup", 7),
    bind(&[k(Char('r'))], "r", Command::Reply, Scope::Triage, "reply to the reporter", "reply", 6),
    bind(&[k(Char('A'))], "A", Command::Advisory, Scope::Triage, "advisory fields: TOML form in $EDITOR", "", HELP_ONLY),
    bind(&[k(Char('R'))], "R", Command::Answered, Scope::Triage, "answered elsewhere (phone, other)", "", HELP_ONLY),
    bind(&[k(Char('K'))], "K", Command::ImportKey, Scope::Report, "import the attached public key (asks)", "", HELP_ONLY),
    bind(&[k(Char('w'))], "w", Command::ToggleReasons, Scope::Report, "why: unfold the classifier's reasons", "why", 8),
    bind(&[k(Char('y'))], "y", Command::SendReply, Scope::ReplyPreview, "preview (reply, reject): send it", "send", 1),
    bind(&[k(Char('e'))], "e", Command::EditReply, Scope::ReplyPreview, "preview: edit it again in $EDITOR", "edit", 2),
    bind(&[k(Char('n')), k(Esc)], "n/Esc", Command::CancelReply, Scope::ReplyPreview, "preview: cancel (nothing is sent)", "cancel", 3),
    bind(&[k(Char('u'))], "u", Command::Undo, Scope::Triage, "undo the last action", "undo", 5),
    bind(&[k(Char('T'))], "T", Command::Stats, Scope::Queue, "stats", "stats", 9),
    bind(&[k(Char('m'))], "m", Command::ToggleMonthly, Scope::Stats, "stats: by month / by week", "monthly", 2),
    bind(&[k(Char('H'))], "H", Command::Held, Scope::Queue, "held posts (Mailman hold queue)", "", HELP_ONLY),
    bind(&[k(Char('a'))], "a", Command::HeldAccept, Scope::Held, "held: accept the post", "accept", 1),
    bind(&[k(Char('s'))], "s", Command::HeldDiscard, Scope::Held, "held: discard as spam", "discard", 2),
    bind(&[k(Char('z'))], "z", Command::HeldDefer, Scope::Held, "held: defer (decide later)", "defer", 3),
    bind(&[k(Char('r'))], "r", Command::HeldReject, Scope::Held, "held: reject with a reason (templates)", "reject", 4),
    bind(&[k(Char('S'))], "S", Command::HeldSweep, Scope::Held, "held: sweep: discard all spam (y/N)", "sweep spam", 5),
    bind(&[k(Char('L'))], "L", Command::Messages, Scope::Screens, "message log (last 100 lines), :messages", "log", 26),
    bind(&[k(Char(':'))], ":", Command::CommandLine, Scope::Screens, "command: :messages, :q", "", HELP_ONLY),
    bind(&[ctrl('a'), ctrl('e'), ctrl('u'), ctrl('w')], "", Command::InPrompt, Scope::Prompt, "prompt: start, end, clear, delete word", "", HELP_ONLY),
    bind(&[k(Up), k(Down), ctrl('n'), ctrl('p')], "", Command::InPrompt, Scope::Prompt, "in a picker: move (type to narrow)", "", HELP_ONLY),
];

#[allow(clippy::too_many_arguments)]
const fn bind(
    keys: &'static [Key],
    label: &'static str,
    command: Command,
    scope: Scope,
    help: &'static str,
    hint: &'static str,
    rank: u8,
) -> Binding {
    Binding {
        keys,
        label,
        command,
        scope,
        help,
        hint,
        rank,
    }
}

/// The screen a key arrives on, for scoping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    Queue,
    Report,
    Stats,
    Held,
    ReplyPreview,
}

fn applies(scope: Scope, at: Where) -> bool {
    match scope {
        Scope::Everywhere => true,
        Scope::Screens => at != Where::ReplyPreview,
        Scope::Motions => true,
        Scope::Queue => at == Where::Queue,
        Scope::Report => at == Where::Report,
        Scope::Triage => matches!(at, Where::Queue | Where::Report),
        Scope::ReplyPreview => at == Where::ReplyPreview,
        Scope::Stats => at == Where::Stats,
        Scope::Held => at == Where::Held,
        Scope::Prompt => false,
    }
}

/// What `key` means on screen `at`. Ctrl-C always quits.
pub fn command_for(key: &KeyEvent, at: Where) -> Option<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == Char('c') {
        return Some(Command::Quit);
    }
    let pressed = Key(key.code, ctrl);
    KEYMAP
        .iter()
        .find(|b| applies(b.scope, at) && b.keys.contains(&pressed))
        .map(|b| b.command)
}

/// A key that means nothing on screen `at` but something on another: its name, what it does
/// there and where, so the desk can say so rather than ignore it (`T` in the report view).
pub fn elsewhere(key: &KeyEvent, at: Where) -> Option<(String, &'static str, Scope)> {
    let pressed = Key(key.code, key.modifiers.contains(KeyModifiers::CONTROL));
    if command_for(key, at).is_some() {
        return None;
    }
    KEYMAP
        .iter()
        .find(|b| b.scope != Scope::Prompt && b.keys.contains(&pressed))
        .map(|b| (key_name(&pressed), b.help, b.scope))
}

/// The footer's word for j/k where they scroll rather than move a cursor.
pub const SCROLL_HINT: &str = "scroll";

/// The footer: the hinted bindings that apply on screen `at`, most useful first.
pub fn hints(at: Where) -> Vec<(&'static str, &'static str)> {
    let mut hinted: Vec<&Binding> = KEYMAP
        .iter()
        .filter(|b| !b.hint.is_empty() && b.rank != HELP_ONLY && applies(b.scope, at))
        .collect();
    hinted.sort_by_key(|b| b.rank);
    hinted
        .into_iter()
        .map(|b| match (b.command, at) {
            (Command::Back, Where::Queue) => (b.label, "quit"),
            // Where there is no cursor, j/k scroll what does not fit (a preview, the overdue list).
            (Command::Down, Where::ReplyPreview | Where::Stats) => (b.label, SCROLL_HINT),
            _ => (b.label, b.hint),
        })
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

fn key_name(k: &Key) -> String {
    let name = match k.0 {
        Char(' ') => "Space".into(),
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
    };
    if k.1 {
        format!("^{}", name.to_uppercase())
    } else {
        name
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
            Where::Held,
            Where::ReplyPreview,
        ] {
            let mut seen: Vec<Key> = Vec::new();
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
        assert_eq!(command_for(&key('c'), Where::Report), Some(Command::Note));
        // Issue 15: A is the advisory form; answered elsewhere moved to R.
        assert_eq!(
            command_for(&key('A'), Where::Report),
            Some(Command::Advisory)
        );
        assert_eq!(
            command_for(&key('R'), Where::Queue),
            Some(Command::Answered)
        );
        assert_eq!(
            command_for(&key('n'), Where::Queue),
            Some(Command::NextMatch)
        );
        // Issue 18: on the held screen r rejects and S sweeps the spam; elsewhere they
        // keep their triage meanings.
        assert_eq!(
            command_for(&key('r'), Where::Held),
            Some(Command::HeldReject)
        );
        assert_eq!(
            command_for(&key('S'), Where::Held),
            Some(Command::HeldSweep)
        );
        assert_eq!(
            command_for(&key('S'), Where::Queue),
            Some(Command::ChangeState)
        );
        let ctrl_d = KeyEvent::new(Char('d'), KeyModifiers::CONTROL);
        assert_eq!(
            command_for(&ctrl_d, Where::Queue),
            Some(Command::HalfPageDown)
        );
        let esc = KeyEvent::new(Esc, KeyModifiers::NONE);
        assert_eq!(command_for(&esc, Where::Queue), Some(Command::Close));
        assert!(help_lines()
            .iter()
            .any(|(k, h)| k == "u" && h.contains("undo")));
    }
}
