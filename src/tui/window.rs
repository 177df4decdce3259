//! What the queue screen asks the store worker for: the window of rows around the cursor
//! (loaded ahead by [`PREFETCH`] on each side), a new queue when the filter changes, and
//! everything on screen again after the store changed. Methods on [`State`], so every part
//! of `update` that moves the cursor or lands a change can call them without importing the
//! others.

use super::action::Request;
use super::app::{Screen, State, Tab};

/// Rows loaded beyond each edge of the viewport, so scrolling rarely waits on the store.
pub const PREFETCH: usize = 40;

impl State {
    /// Starts a fresh queue (another tab, sort or search): the cursor goes to the top.
    pub fn new_queue(&mut self) -> Vec<Request> {
        self.queue.generation += 1;
        self.keep = None;
        self.queue.loaded = false;
        self.queue.cursor = 0;
        self.queue.top = 0;
        self.queue.requested = None;
        self.ensure_window()
    }

    /// Asks again for everything on screen: the store changed under it. The cursor stays on
    /// its report (see [`State::keep`]) unless a change of ours says where it goes.
    pub fn reload(&mut self) -> Vec<Request> {
        if self.follow.is_none() && self.keep.is_none() {
            let q = &self.queue;
            self.keep = q.current().map(|r| {
                let next = q.row(q.cursor + 1).map(|n| n.summary.id);
                (r.summary.id, next)
            });
        }
        self.queue.requested = None;
        let mut out = self.request_window();
        out.push(Request::OutboxCount);
        out.push(self.tab_counts_request());
        if self.screen == Screen::Report {
            if let Some(id) = self.report_id {
                out.push(Request::Report(id));
            }
        }
        if self.screen == Screen::Stats {
            out.push(Request::Stats);
        }
        out
    }

    /// Counts the tabs the tab bar shows sizes for.
    pub fn tab_counts_request(&self) -> Request {
        Request::TabCounts(
            Tab::COUNTED
                .iter()
                .map(|t| t.filter(&self.me.email))
                .collect(),
        )
    }

    /// Keeps the cursor on screen and the rows around it loaded (or asked for).
    pub fn ensure_window(&mut self) -> Vec<Request> {
        let vp = self.viewport();
        let q = &mut self.queue;
        if q.loaded {
            q.cursor = q.cursor.min(q.page.total.saturating_sub(1));
            // No blank screen below the last report while reports above are out of view.
            q.top = q.top.min(q.page.total.saturating_sub(vp));
        }
        if q.cursor < q.top {
            q.top = q.cursor;
        } else if q.cursor >= q.top + vp {
            q.top = q.cursor + 1 - vp;
        }
        let want_end = if q.loaded {
            (q.top + vp).min(q.page.total)
        } else {
            q.top + vp
        };
        let covers = |offset: usize, len: usize| offset <= q.top && offset + len >= want_end;
        if q.loaded && covers(q.page.offset, q.page.rows.len()) {
            return Vec::new();
        }
        if let Some((offset, len)) = q.requested {
            if covers(offset, len) {
                return Vec::new();
            }
        }
        self.request_window()
    }

    fn request_window(&mut self) -> Vec<Request> {
        let vp = self.viewport();
        let offset = self.queue.top.saturating_sub(PREFETCH);
        let limit = vp + 2 * PREFETCH;
        self.queue.requested = Some((offset, limit));
        vec![Request::Queue {
            generation: self.queue.generation,
            filter: self.filter(),
            offset,
            limit,
        }]
    }
}
