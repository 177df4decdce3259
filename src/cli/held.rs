//! `secdesk held`: the mailing list's hold queue (Mailman 3), moderated from the terminal.
//!
//! - `held [--list L] [--json]` lists held posts with Mailman's hold reason and the
//!   classifier's verdict. `--json` is a contract: an array of objects with `list`,
//!   `request_id`, `message_id`, `sender`, `subject`, `reason`, `hold_date`, `class`,
//!   `outcome`, `spam_score` and `reasons`, `content_lost` (true for a post whose content
//!   Mailman lost: its `class` is a placeholder, `valid` and `unsure`), `text_mismatch`
//!   (true when Mailman's text may be another post's: `core::moderation::doubt`; the same
//!   placeholder), and `auth` (SPF, DKIM and DMARC as weighed, with
//!   `authserv_id` and `verified`, as in `secdesk show --json`), and `unreadable` (null).
//!   A held entry Mailman gave without a usable request id is an element too, after the
//!   posts: `request_id` null, `unreadable` saying why, `position`, and what it says of
//!   itself (`list`, `message_id`, `sender`, `subject`, `hold_date`); it has no verdict.
//! - A listing that may have left held posts out (such an entry, a count of held posts over
//!   the entries Mailman gave, a queue past 10,000 entries) says so after the posts
//!   (`NOT SHOWN: …`; with `--json`, on stderr) and exits 1; so does a sweep. A post's
//!   `Authentication-Results` are read as ingest reads them (`[sync] authserv_id`): a pass
//!   the sender wrote is neither weighed nor shown as the server's.
//! - `held accept|discard|reject|defer REQUEST_ID... [--list L] [--comment TEXT]` moderates.
//!   Accept, discard and reject act only on a post a listing on this desk showed
//!   (`core::moderation::cache::was_listed`): Mailman reuses request ids.
//! - `held sweep --class spam [--yes]` discards every post classified spam, after showing
//!   them and asking. A post whose content Mailman lost, or whose text may be another
//!   post's, is never spam here (`ClassifiedPost::doubt`); one whose text changed since the
//!   listing is left held (exit 1).
//!
//! All of it calls `mailio::mailman::held`, as the desk does. Held posts are hostile text:
//! everything shown (and every JSON string) passes through `core::sanitize`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use crate::core::classify::load_classifier;
use crate::core::model::{Class, Outcome};
use crate::core::moderation::cache::Coverage;
use crate::core::moderation::gaps::{self, ListingGap};
use crate::core::moderation::{self, Action, ClassifiedPost, HeldPost};
use crate::core::parse::AuthResults;
use crate::core::sanitize::terminal_line;
use crate::core::store::{timestamp, Store};
use crate::core::triage::view::AuthView;
use crate::mailio::mailman::held::{self, Acted, Moderator};

use super::{output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<HeldCommand>,
    /// Only this list (a list id or address, as in [mailman] lists).
    #[arg(long, global = true, value_name = "LIST")]
    pub list: Option<String>,
    /// Print a JSON array, one object per held post.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum HeldCommand {
    /// Let held posts through to the list; the classifier learns they are not spam.
    Accept(ActArgs),
    /// Drop held posts silently; the classifier learns they are spam (unless --not-spam).
    Discard(DiscardArgs),
    /// Drop held posts and mail each sender the reason given with --comment.
    Reject(RejectArgs),
    /// Leave held posts in the queue, to decide later.
    Defer(ActArgs),
    /// Discard every held post classified spam, after showing them and asking.
    Sweep(SweepArgs),
}

#[derive(Debug, clap::Args)]
pub struct ActArgs {
    /// Mailman's request ids, as `secdesk held` lists them. Mailman gives a freed id to the
    /// next post: accept, discard and reject act only on a post a listing showed.
    #[arg(required = true, value_name = "REQUEST_ID")]
    pub ids: Vec<u64>,
}

#[derive(Debug, clap::Args)]
pub struct RejectArgs {
    #[command(flatten)]
    pub act: ActArgs,
    /// The reason mailed to the sender of a rejected post (Mailman's `comment`).
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DiscardArgs {
    #[command(flatten)]
    pub act: ActArgs,
    /// Do not teach the classifier that the post is spam (e.g. a duplicate).
    #[arg(long)]
    pub not_spam: bool,
}

/// What a moderating subcommand asks: the action, the posts, and its own options.
struct Acting<'a> {
    action: Action,
    ids: &'a [u64],
    comment: Option<&'a str>,
    not_spam: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SweepClass {
    Spam,
}

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The class to sweep: only spam can be swept (posts classified valid, invalid or
    /// unsure are never touched).
    #[arg(long, value_enum)]
    pub class: SweepClass,
    /// Do not ask before discarding (needed when stdin is not a terminal).
    #[arg(short, long)]
    pub yes: bool,
}

/// One held post, as `--json` prints it (the names are a contract).
#[derive(Debug, Serialize)]
struct HeldJson {
    list: String,
    request_id: u64,
    message_id: Option<String>,
    sender: String,
    subject: String,
    reason: String,
    hold_date: Option<String>,
    class: Class,
    outcome: Outcome,
    spam_score: f64,
    reasons: Vec<String>,
    /// Mailman lost the post's content: nothing was classified, and `class` is only the
    /// placeholder a person must not read as a real report (`HeldPost::content_lost`).
    content_lost: bool,
    /// Mailman's text for the post may be another post's (its Message-ID, From or Subject
    /// disagree with the entry, or another held entry has its Message-ID): `class` is the
    /// same placeholder as for a lost post, and the first reason says why.
    text_mismatch: bool,
    /// The sender authentication the verdict weighed, and whose it is.
    auth: AuthView,
    /// Always null for a post; see [`UnreadableJson`].
    unreadable: Option<String>,
}

/// A held entry Mailman listed without a usable request id, as `--json` prints it beside the
/// posts: `request_id` null, `unreadable` says why, `position` is its place in Mailman's
/// order. It has no verdict: nothing can act on it from the desk.
#[derive(Debug, Serialize)]
struct UnreadableJson {
    list: String,
    request_id: Option<u64>,
    position: usize,
    unreadable: String,
    /// Null when Mailman gave none, as a post's is.
    message_id: Option<String>,
    sender: String,
    subject: String,
    /// RFC 3339 in UTC, as a post's is; null when Mailman gave none it could read.
    hold_date: Option<String>,
}

/// One element of `held --json`: a post, or an entry that could not be read.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum HeldRow {
    Post(Box<HeldJson>),
    Unreadable(UnreadableJson),
}

impl HeldJson {
    /// The rows of a gap's unreadable entries (none for another gap).
    fn unreadable(gap: &ListingGap) -> Vec<HeldRow> {
        let ListingGap::Unreadable { list, entries } = gap else {
            return Vec::new();
        };
        entries
            .iter()
            .map(|e| {
                // The text as Mailman gave it: `print_json` makes it safe for a terminal
                // only when a terminal reads it (README: piped, the JSON is the text).
                HeldRow::Unreadable(UnreadableJson {
                    list: list.clone(),
                    request_id: None,
                    position: e.position,
                    unreadable: e.why.clone(),
                    message_id: Some(e.message_id.clone()).filter(|m| !m.is_empty()),
                    sender: e.sender.clone(),
                    subject: e.subject.clone(),
                    hold_date: HeldPost::parse_hold_date(&e.hold_date).map(timestamp),
                })
            })
            .collect()
    }
}

impl From<&ClassifiedPost> for HeldJson {
    fn from(c: &ClassifiedPost) -> HeldJson {
        let p = &c.post;
        // The text as Mailman gave it, as `show --json` gives a stored message's:
        // `print_json` makes it safe for a terminal only when a terminal reads it.
        HeldJson {
            list: p.list.clone(),
            request_id: p.request_id,
            message_id: p.message_id.clone(),
            sender: p.sender.clone(),
            subject: p.subject.clone(),
            reason: p.reason.clone(),
            hold_date: p.hold_date.map(timestamp),
            class: c.verdict.class,
            outcome: c.verdict.outcome,
            spam_score: c.verdict.spam_score,
            reasons: c.verdict.reasons.clone(),
            content_lost: p.content_lost(),
            text_mismatch: c.doubt.as_ref().is_some_and(|d| d.text_mismatch()),
            auth: AuthView::of(&c.auth),
            unreadable: None,
        }
    }
}

/// The post's sender authentication for the text listing, every string made safe for a
/// terminal (the authserv-id is the sender's text when unverified).
fn safe_auth(auth: &AuthResults) -> AuthView {
    let mut view = AuthView::of(auth);
    for field in [
        &mut view.spf,
        &mut view.dkim,
        &mut view.dmarc,
        &mut view.authserv_id,
    ] {
        *field = field.as_deref().map(terminal_line);
    }
    view
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let acting = args.command.as_ref().and_then(action_of);
    let config = ctx.config()?;
    let trusted = config.sync.trusted_authserv_ids();
    let client = held::connect(&config)?;
    let lists = held::lists(&config, args.list.as_deref());
    let open = || ctx.open_store(&config.store_path(), Store::open);
    let Some(act) = acting else {
        let coverage = if args.list.is_some() {
            Coverage::Part
        } else {
            Coverage::Whole
        };
        // Mailman starts building the queue before the store is even open.
        let (listed, mut store) = held::fetch_loading(&client, &lists, coverage, &trusted, || {
            let mut store = open()?;
            let classifier = load_classifier(&mut store, Some(&config.dir()))?;
            anyhow::Ok((store, classifier))
        })?;
        if let Some(e) = &listed.cache_error {
            eprintln!("{}", not_recorded_warning(e, &config.store_path()));
        }
        let (posts, gaps) = (listed.posts, listed.gaps);
        let mut moderator = Moderator {
            client: &client,
            store: &mut store,
            moderator: &config.identity.email,
        };
        if let Some(HeldCommand::Sweep(sweep)) = &args.command {
            let swept = run_sweep(&mut moderator, &posts, &gaps, sweep)?;
            return Ok(listing_status(swept, &gaps));
        }
        if args.json {
            print_json(&posts, &gaps)?;
        } else {
            print_posts(&mut std::io::stdout().lock(), &posts, &gaps, &lists)?;
        }
        return Ok(listing_status(ExitCode::SUCCESS, &gaps));
    };
    let mut store = open()?;
    let classifier = load_classifier(&mut store, Some(&config.dir()))?;
    let mut moderator = Moderator {
        client: &client,
        store: &mut store,
        moderator: &config.identity.email,
    };
    let action = act.action;
    let train = !act.not_spam;
    let mut refused = 0;
    for (at, id) in act.ids.iter().enumerate() {
        // An error stops the command: it names the ids after it, which were not tried.
        let stopped = || stopped_at(*id, &act.ids[at + 1..]);
        let found = held::find(&client, &lists, *id).with_context(stopped)?;
        let found = only_one(found).with_context(stopped)?;
        let Some(post) = found else {
            println!(
                "request {id}: already handled (no longer held in {})",
                terminal_line(&lists.join(", "))
            );
            continue;
        };
        // An id alone does not say which post the moderator saw: Mailman gives a freed id to
        // the next post. Only a post a listing showed is accepted, discarded or rejected.
        // A refused id does not stop the others: each is acted on or named.
        if action.clears() {
            if let Err(e) = check_listed(moderator.store, &post, action) {
                eprintln!("secdesk: error: {e:#}");
                refused += 1;
                continue;
            }
        }
        for seen in moderation::classify(&classifier, &trusted, vec![post]) {
            let acted = moderator
                .act(&seen, action, act.comment, train)
                .with_context(stopped)?;
            if acted == Acted::Changed {
                eprintln!("secdesk: error: {}", acted_line(action, &seen, acted));
                refused += 1;
            } else {
                println!("{}", acted_line(action, &seen, acted));
            }
        }
    }
    Ok(refused_status(refused, act.ids.len()))
}

/// The one post found under a request id, if any; several (lists that each hold one under
/// it) is an error asking for `--list`.
fn only_one(mut found: Vec<HeldPost>) -> anyhow::Result<Option<HeldPost>> {
    if found.len() > 1 {
        let lists: Vec<String> = found.iter().map(|p| terminal_line(&p.list)).collect();
        anyhow::bail!(
            "it is held in several lists ({}): say which with --list",
            lists.join(", ")
        );
    }
    Ok(found.pop())
}

/// What an error at request `id` leaves undone: the ids after it were not tried.
fn stopped_at(id: u64, rest: &[u64]) -> String {
    if rest.is_empty() {
        return format!("request {id}");
    }
    let ids: Vec<String> = rest.iter().map(u64::to_string).collect();
    format!("request {id} (stopped there; not tried: {})", ids.join(" "))
}

/// `held --json`: the posts, then each held entry that could not be read; every gap is
/// said on stderr too.
fn print_json(posts: &[ClassifiedPost], gaps: &[ListingGap]) -> anyhow::Result<()> {
    let mut rows: Vec<HeldRow> = posts
        .iter()
        .map(|c| HeldRow::Post(Box::new(HeldJson::from(c))))
        .collect();
    rows.extend(gaps.iter().flat_map(HeldJson::unreadable));
    output::print_json(&rows)?;
    for gap in gaps {
        eprintln!("secdesk: warning: {gap}");
    }
    Ok(())
}

/// Exit 1 when the listing may have left held posts out (`gaps::incomplete`): a held entry
/// the desk could not read, a count over the entries read, a queue past the bound. The gaps
/// were said with the listing; stderr's last line says why the status.
fn listing_status(status: ExitCode, gaps: &[ListingGap]) -> ExitCode {
    if !gaps::incomplete(gaps) {
        return status;
    }
    eprintln!(
        "secdesk: error: the held listing is incomplete (said above): some held posts are not shown here and were not acted on; moderate them in Mailman's web UI (Postorius)"
    );
    ExitCode::FAILURE
}

/// Exit 1 when any of the `asked` ids was refused, summing them up when there were several
/// (each was named as it came).
fn refused_status(refused: usize, asked: usize) -> ExitCode {
    if refused == 0 {
        return ExitCode::SUCCESS;
    }
    if asked > 1 {
        eprintln!(
            "secdesk: {} refused (named above); the others were acted on",
            output::counted(refused, "request was", "requests were")
        );
    }
    ExitCode::FAILURE
}

/// The warning of a listing whose posts could not be recorded in the store (`held_verdicts`):
/// the listing is whole, but `accept|discard|reject ID` (`check_listed`) will refuse its posts
/// as never listed until a listing is recorded, so it says that, and what to do.
fn not_recorded_warning(error: &dyn std::fmt::Display, store: &std::path::Path) -> String {
    format!(
        "secdesk: warning: this listing is complete, but the store could not record it ({error}): \
         `secdesk held accept|discard|reject ID` will refuse these posts as never listed; make \
         {} writable (disk space, permissions) and run `secdesk held` again before acting by \
         id, or act on them from the desk's held screen (H)",
        terminal_line(&store.display().to_string())
    )
}

/// Refuses a post no listing on this desk showed (`moderation::cache::was_listed`), naming it.
fn check_listed(store: &Store, post: &HeldPost, action: Action) -> anyhow::Result<()> {
    if moderation::cache::was_listed(store, &post.raw)? {
        return Ok(());
    }
    anyhow::bail!(
        "request {} of {} now holds a post no listing on this desk has shown (\"{}\" from {}, held {}): nothing was done to it; list the held posts with `secdesk held`, then {action} it by its id there (if that listing warns that the store could not record it, make the store writable first)",
        post.request_id,
        terminal_line(&post.list),
        terminal_line(&post.subject),
        terminal_line(&post.sender),
        post.hold_date
            .map(timestamp)
            .unwrap_or_else(|| "at an unknown time".into()),
    )
}

/// The action a subcommand takes, with its arguments; `None` for sweep.
fn action_of(command: &HeldCommand) -> Option<Acting<'_>> {
    fn plain(action: Action, a: &ActArgs) -> Acting<'_> {
        Acting {
            action,
            ids: &a.ids,
            comment: None,
            not_spam: false,
        }
    }
    match command {
        HeldCommand::Accept(a) => Some(plain(Action::Accept, a)),
        HeldCommand::Defer(a) => Some(plain(Action::Defer, a)),
        HeldCommand::Discard(d) => Some(Acting {
            not_spam: d.not_spam,
            ..plain(Action::Discard, &d.act)
        }),
        HeldCommand::Reject(r) => Some(Acting {
            comment: r.comment.as_deref(),
            ..plain(Action::Reject, &r.act)
        }),
        HeldCommand::Sweep(_) => None,
    }
}

/// One line per action: what was done to which post, or that someone was first.
fn acted_line(action: Action, seen: &ClassifiedPost, acted: Acted) -> String {
    let p = &seen.post;
    let what = format!(
        "request {} of {} (\"{}\" from {})",
        p.request_id,
        terminal_line(&p.list),
        terminal_line(&p.subject),
        terminal_line(&p.sender)
    );
    match acted {
        Acted::AlreadyHandled => format!("{what}: already handled"),
        Acted::Changed => format!(
            "{what}: changed since the listing (Mailman now gives another text for it); nothing done, it stays held: list the held posts again"
        ),
        Acted::Done(r) => {
            let verb = match action {
                Action::Accept => "accepted",
                Action::Discard => "discarded",
                Action::Reject => "rejected",
                Action::Defer => "deferred",
            };
            let trained = r
                .trained
                .map(|l| format!("; classifier trained as {l}"))
                .unwrap_or_default();
            let report = r
                .report
                .map(|id| format!("; logged on report #{id}"))
                .unwrap_or_default();
            format!("{verb} {what}{trained}{report}")
        }
    }
}

fn print_posts(
    out: &mut impl Write,
    posts: &[ClassifiedPost],
    gaps: &[ListingGap],
    lists: &[&str],
) -> anyhow::Result<()> {
    if posts.is_empty() {
        // "Nothing held" only when Mailman's answer says so throughout.
        if gaps.is_empty() {
            writeln!(out, "nothing held in {}", terminal_line(&lists.join(", ")))?;
        } else {
            writeln!(
                out,
                "no held post of {} can be shown here",
                terminal_line(&lists.join(", "))
            )?;
        }
        print_gaps(out, gaps)?;
        return Ok(());
    }
    for c in posts {
        let p = &c.post;
        let v = &c.verdict;
        let class = class_word(c);
        writeln!(
            out,
            "{:>5}  {}  {:<7} {:<6} {:.3}  {}  {}",
            p.request_id,
            p.hold_date
                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "-".repeat(16)),
            class,
            v.outcome.as_str(),
            v.spam_score,
            terminal_line(&p.sender),
            terminal_line(&p.subject),
        )?;
        writeln!(
            out,
            "       list {}: held because {}",
            terminal_line(&p.list),
            terminal_line(&p.reason)
        )?;
        if !v.reasons.is_empty() {
            let reasons: Vec<String> = v.reasons.iter().map(|r| terminal_line(r)).collect();
            writeln!(out, "       why {class}: {}", reasons.join("; "))?;
        }
        if let Some(line) = safe_auth(&c.auth).line() {
            writeln!(out, "       {line}")?;
        }
    }
    // A post whose text is in doubt (lost, or another post's) was never classified: its
    // placeholder class is not counted as a real report, but on its own.
    let lost = posts.iter().filter(|c| c.post.content_lost()).count();
    let mismatched = posts
        .iter()
        .filter(|c| c.doubt.as_ref().is_some_and(|d| d.text_mismatch()))
        .count();
    let count = |class: Class| {
        posts
            .iter()
            .filter(|c| c.verdict.class == class && c.doubt.is_none())
            .count()
    };
    // A post suggested spam but left unsure is counted apart: a sweep keeps it held.
    let unsure_spam = count(Class::Spam) - moderation::spam_sweep(posts).len();
    let unsure = if unsure_spam > 0 {
        format!(" ({unsure_spam} of them unsure: a sweep keeps those held)")
    } else {
        String::new()
    };
    let mut lost = if lost > 0 {
        format!(", {lost} with content lost (not classified, never swept)")
    } else {
        String::new()
    };
    if mismatched > 0 {
        lost.push_str(&format!(
            ", {mismatched} whose text may be another post's (not classified, never swept)"
        ));
    }
    writeln!(
        out,
        "{} held: {} spam{unsure}, {} invalid, {} valid{lost}",
        posts.len(),
        count(Class::Spam),
        count(Class::Invalid),
        count(Class::Valid)
    )?;
    print_gaps(out, gaps)
}

/// What the listing could not show, after it: one line per gap.
fn print_gaps(out: &mut impl Write, gaps: &[ListingGap]) -> anyhow::Result<()> {
    for gap in gaps {
        writeln!(out, "NOT SHOWN: {gap}")?;
    }
    Ok(())
}

/// A post's class as the listing prints it: for a post whose text is in doubt (its
/// verdict's class is a placeholder) what is wrong (`lost`, `mismatch`, `shared`), else the
/// classifier's class.
fn class_word(c: &ClassifiedPost) -> &'static str {
    match &c.doubt {
        Some(doubt) => doubt.word(),
        None => c.verdict.class.as_str(),
    }
}

/// Shows what the sweep will discard, asks, then discards with a progress bar when many.
/// Entries the listing could not read are never swept: they are said first, and stay held.
fn run_sweep(
    moderator: &mut Moderator<'_>,
    posts: &[ClassifiedPost],
    gaps: &[ListingGap],
    args: &SweepArgs,
) -> anyhow::Result<ExitCode> {
    let SweepClass::Spam = args.class;
    let doomed = moderation::spam_sweep(posts);
    let left = posts.len() - doomed.len();
    let mut out = std::io::stdout().lock();
    print_gaps(&mut out, gaps)?;
    if doomed.is_empty() {
        writeln!(
            out,
            "nothing to sweep: none of the {} held posts is classified spam",
            posts.len()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{} held: {} classified spam will be discarded; {} classified valid, invalid or unsure stay held",
        posts.len(),
        doomed.len(),
        left
    )?;
    for c in &doomed {
        writeln!(
            out,
            "  {:>5}  {:.3}  {}  {}",
            c.post.request_id,
            c.verdict.spam_score,
            terminal_line(&c.post.sender),
            terminal_line(&c.post.subject)
        )?;
    }
    out.flush()?;
    drop(out);
    if !args.yes && !confirm(&format!("Discard these {} posts?", doomed.len()))? {
        println!("nothing discarded");
        return Ok(ExitCode::FAILURE);
    }
    let bar = (doomed.len() >= 20 && std::io::stderr().is_terminal()).then(|| {
        indicatif::ProgressBar::new(doomed.len() as u64).with_style(
            indicatif::ProgressStyle::with_template("discarding {bar:30} {pos}/{len} {eta}")
                // The template is a constant; the fallback only guards against an indicatif change.
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    });
    let summary = moderator.sweep(&doomed, |_, _| {
        if let Some(b) = &bar {
            b.inc(1);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = summary?;
    println!(
        "discarded {} (classifier trained as spam); {} already handled; {} left held",
        summary.discarded,
        summary.already_handled,
        left + summary.changed
    );
    if summary.changed > 0 {
        eprintln!(
            "secdesk: error: {} changed since the listing (Mailman now gives another text for them) and were left held: list the held posts again and decide on what they hold now",
            output::counted(summary.changed, "post", "posts")
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks y/N on the terminal. Refuses (an error) when stdin is not a terminal.
fn confirm(question: &str) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!("refusing to discard without asking: stdin is not a terminal; pass --yes to discard these posts");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
