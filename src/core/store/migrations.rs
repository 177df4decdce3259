//! The schema, as one ordered list of migrations. `PRAGMA user_version` records how many have
//! been applied; a new schema change is a new entry at the end, never an edit of an old one.

/// Each entry runs once, in order, inside a transaction.
pub const MIGRATIONS: &[&str] = &[
    // 1: mail, reports, triage records.
    r#"
    CREATE TABLE mailbox_state (
        mailbox      TEXT PRIMARY KEY,
        uidvalidity  INTEGER NOT NULL,
        last_uid     INTEGER NOT NULL
    );

    CREATE TABLE reports (
        id              INTEGER PRIMARY KEY,
        created_at      TEXT NOT NULL,           -- RFC 3339 UTC, when the first message arrived
        state           TEXT NOT NULL DEFAULT 'new',
        invalid_reason  TEXT,
        class           TEXT,                    -- spam | invalid | valid (suggested or confirmed)
        class_confirmed INTEGER NOT NULL DEFAULT 0,
        outcome         TEXT,                    -- spam | unsure | ham
        spam_score      REAL,
        confidence      REAL,
        reasons         TEXT,                    -- JSON array of strings
        coordinator     TEXT,                    -- a team member's email
        duplicate_of    INTEGER REFERENCES reports(id),
        flagged         INTEGER NOT NULL DEFAULT 0, -- the reporter answered while we waited
        version         INTEGER NOT NULL DEFAULT 0, -- bumped on every change; guards stale views
        updated_at      TEXT NOT NULL
    );
    CREATE INDEX reports_state ON reports(state);
    CREATE INDEX reports_created ON reports(created_at);

    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        report_id     INTEGER NOT NULL REFERENCES reports(id),
        content_hash  TEXT NOT NULL UNIQUE,
        message_id    TEXT,
        direction     TEXT NOT NULL DEFAULT 'in',  -- in | out
        received_at   TEXT NOT NULL,
        date          TEXT,
        from_name     TEXT,
        from_addr     TEXT,
        reply_to      TEXT,                        -- JSON array of addresses
        to_addrs      TEXT,                        -- JSON array of addresses
        cc_addrs      TEXT,                        -- JSON array of addresses
        subject       TEXT NOT NULL DEFAULT '',
        in_reply_to   TEXT,
        refs          TEXT,                        -- JSON array of message ids
        body          TEXT NOT NULL DEFAULT '',
        notes         TEXT,                        -- JSON array: what could not be parsed
        spf           TEXT,
        dkim          TEXT,
        dmarc         TEXT,
        class         TEXT,
        outcome       TEXT,
        spam_score    REAL,
        confidence    REAL,
        reasons       TEXT,                        -- JSON array of strings
        mailbox       TEXT,
        uidvalidity   INTEGER,
        uid           INTEGER,
        raw           BLOB NOT NULL
    );
    CREATE INDEX messages_report ON messages(report_id);
    CREATE INDEX messages_message_id ON messages(message_id);

    CREATE TABLE attachments (
        message_id    INTEGER NOT NULL REFERENCES messages(id),
        name          TEXT,
        content_type  TEXT NOT NULL,
        size          INTEGER NOT NULL
    );
    CREATE INDEX attachments_message ON attachments(message_id);

    CREATE TABLE notes (
        id         INTEGER PRIMARY KEY,
        report_id  INTEGER NOT NULL REFERENCES reports(id),
        author     TEXT NOT NULL,
        at         TEXT NOT NULL,
        text       TEXT NOT NULL
    );
    CREATE INDEX notes_report ON notes(report_id);

    -- The audit log. Response metrics are derived from these rows, never from mutable fields.
    CREATE TABLE events (
        id         INTEGER PRIMARY KEY,
        report_id  INTEGER NOT NULL REFERENCES reports(id),
        actor      TEXT NOT NULL,
        at         TEXT NOT NULL,
        kind       TEXT NOT NULL,  -- class | state | coordinator | note | duplicate | reply | ...
        before     TEXT,
        after      TEXT
    );
    CREATE INDEX events_report ON events(report_id);
    CREATE INDEX events_kind_at ON events(kind, at);

    CREATE VIRTUAL TABLE messages_fts USING fts5(subject, sender, body, tokenize = 'unicode61');
    "#,
    // 2 (triage): why a change was made (the invalid reason, the note given with a state
    // change), kept apart from `before`/`after` so those stay plain values metrics can match.
    r#"
    ALTER TABLE events ADD COLUMN detail TEXT;
    CREATE INDEX reports_duplicate_of ON reports(duplicate_of);
    CREATE INDEX reports_coordinator ON reports(coordinator);
    "#,
    // 3 (reply): the outbox. A reply is written here before any SMTP attempt, so it is never
    // lost; `state` moves queued -> sending -> sent, or to failed-permanent (kept for editing).
    r#"
    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        report_id        INTEGER NOT NULL REFERENCES reports(id),
        message_id       TEXT NOT NULL UNIQUE,  -- without angle brackets
        actor            TEXT NOT NULL,         -- who wrote it: the [identity] email
        created_at       TEXT NOT NULL,
        subject          TEXT NOT NULL,
        envelope_from    TEXT NOT NULL,
        recipients       TEXT NOT NULL,         -- JSON array of addresses (RCPT TO)
        draft            TEXT NOT NULL,         -- JSON of the draft, to edit and resend
        raw              BLOB NOT NULL,         -- the exact bytes sent
        state            TEXT NOT NULL DEFAULT 'queued', -- queued | sending | sent | failed-permanent | discarded
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_error       TEXT,
        last_attempt_at  TEXT,
        next_attempt_at  TEXT NOT NULL,
        sent_at          TEXT,
        sent_copy        TEXT,                  -- after sending: pending | filed
        sent_copy_error  TEXT
    );
    CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
    CREATE INDEX outbox_report ON outbox(report_id);
    "#,
    // 4 (classify): the classifier's model (core::classify). Self-contained: only its own tables.
    r#"
    -- One row: how many messages were trained per label, and where the model came from
    -- ('starter' = loaded from assets/starter-model.tsv, 'empty' = `train --empty`).
    -- No row means the model was never set up: the starter model is loaded on first use.
    CREATE TABLE classify_model (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        origin      TEXT NOT NULL,
        spam        INTEGER NOT NULL DEFAULT 0,
        ham         INTEGER NOT NULL DEFAULT 0,   -- not spam, not known to be valid or invalid
        invalid     INTEGER NOT NULL DEFAULT 0,
        valid       INTEGER NOT NULL DEFAULT 0,
        updated_at  TEXT NOT NULL
    );

    -- Per token, in how many trained messages of each label it occurs.
    -- A row whose counts all reach zero is deleted, so untraining restores the table exactly.
    CREATE TABLE classify_tokens (
        token    TEXT PRIMARY KEY,
        spam     INTEGER NOT NULL DEFAULT 0,
        ham      INTEGER NOT NULL DEFAULT 0,
        invalid  INTEGER NOT NULL DEFAULT 0,
        valid    INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;

    -- Every message trained since the model was set up, by content hash (as messages.content_hash),
    -- with its label and the exact tokens it added, so relabelling untrains precisely.
    CREATE TABLE classify_trained (
        content_hash  TEXT PRIMARY KEY,
        label         TEXT NOT NULL,               -- spam | ham | invalid | valid
        tokens        TEXT NOT NULL,               -- newline-separated
        trained_at    TEXT NOT NULL
    );
    "#,
    // 5 (tui): indexes the desk's queue walks instead of sorting (core::store::queue): per state
    // newest first, needs-triage with suggested spam last (newest first for the age order,
    // oldest first for the deadline order), and per coordinator.
    r#"
    CREATE INDEX reports_state_created ON reports(state, created_at);
    CREATE INDEX reports_state_spam_created ON reports(state, (class IS 'spam') DESC, created_at);
    CREATE INDEX reports_state_spam_oldest ON reports(state, (class IS 'spam'), created_at);
    CREATE INDEX reports_coordinator_created ON reports(coordinator, created_at);
    "#,
    // 6 (perf): the full-text index keeps no second copy of the text. A default FTS5 table
    // stores every indexed column again in its own content table; searches only ever read
    // rowids from it (core::store::reports, core::store::queue), so a contentless table
    // serves them the same and halves what indexing writes during a sync. Deleting rows stays
    // possible (contentless_delete, SQLite 3.43). Rebuilt from the stored messages; `sender`
    // is `Name <addr>`, or the bare address, as ingest writes it (parse::Mailbox::display).
    r#"
    DROP TABLE messages_fts;
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        subject, sender, body,
        tokenize = 'unicode61', content = '', contentless_delete = 1
    );
    INSERT INTO messages_fts (rowid, subject, sender, body)
        SELECT id, subject,
               CASE WHEN from_name IS NOT NULL AND from_name != ''
                    THEN from_name || ' <' || coalesce(from_addr, '') || '>'
                    ELSE coalesce(from_addr, '') END,
               body
        FROM messages;
    "#,
    // 7 (store): report ids are never reused. Without AUTOINCREMENT SQLite hands out
    // max(id) + 1, so deleting the newest report gave its id, and whatever still pointed at
    // it (an outbox reply, a duplicate_of), to the next report. SQLite cannot add
    // AUTOINCREMENT in place: the table is rebuilt (foreign keys are off while migrations run
    // and checked before commit, see Store::migrate) with its indexes, and the counter starts
    // above every report id anything ever referred to.
    r#"
    CREATE TABLE reports_autoincrement (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at      TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'new',
        invalid_reason  TEXT,
        class           TEXT,
        class_confirmed INTEGER NOT NULL DEFAULT 0,
        outcome         TEXT,
        spam_score      REAL,
        confidence      REAL,
        reasons         TEXT,
        coordinator     TEXT,
        duplicate_of    INTEGER REFERENCES reports(id),
        flagged         INTEGER NOT NULL DEFAULT 0,
        version         INTEGER NOT NULL DEFAULT 0,
        updated_at      TEXT NOT NULL
    );
    -- `SELECT *` on purpose: had an earlier migration added a column to reports, this fails
    -- (and the whole migration rolls back) rather than silently dropping that column.
    INSERT INTO reports_autoincrement SELECT * FROM reports;
    DROP TABLE reports;
    ALTER TABLE reports_autoincrement RENAME TO reports;
    CREATE INDEX reports_state ON reports(state);
    CREATE INDEX reports_created ON reports(created_at);
    CREATE INDEX reports_duplicate_of ON reports(duplicate_of);
    CREATE INDEX reports_coordinator ON reports(coordinator);
    CREATE INDEX reports_state_created ON reports(state, created_at);
    CREATE INDEX reports_state_spam_created ON reports(state, (class IS 'spam') DESC, created_at);
    CREATE INDEX reports_state_spam_oldest ON reports(state, (class IS 'spam'), created_at);
    CREATE INDEX reports_coordinator_created ON reports(coordinator, created_at);
    DELETE FROM sqlite_sequence WHERE name = 'reports';
    INSERT INTO sqlite_sequence (name, seq) SELECT 'reports', max(
        coalesce((SELECT max(id) FROM reports), 0),
        coalesce((SELECT max(duplicate_of) FROM reports), 0),
        coalesce((SELECT max(report_id) FROM messages), 0),
        coalesce((SELECT max(report_id) FROM notes), 0),
        coalesce((SELECT max(report_id) FROM events), 0),
        coalesce((SELECT max(report_id) FROM outbox), 0));
    "#,
    // 8 (replies, issue 11): evidence kept on each message. `another_sender` marks a message
    // that joined a report's thread from an address other than the reporter's (it never
    // chooses who a reply goes to); `date_header` keeps the original Date header when it was
    // implausible and the arrival time was used instead (core::parse::dates).
    r#"
    ALTER TABLE messages ADD COLUMN another_sender INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN date_header TEXT;
    "#,
    // 9 (sync): IMAP UIDs the server listed but whose body was not stored, with why, so a
    // gap is accounted for in the store and retried by the next sync (core::store::missing).
    // The cursor in mailbox_state never moves past one of them. The index answers "which
    // UIDs of this mailbox are stored" without reading the raw column.
    r#"
    CREATE TABLE imap_missing (
        mailbox      TEXT NOT NULL,
        uidvalidity  INTEGER NOT NULL,
        uid          INTEGER NOT NULL,
        reason       TEXT NOT NULL,
        first_seen   TEXT NOT NULL,              -- RFC 3339 UTC
        last_tried   TEXT NOT NULL,              -- RFC 3339 UTC
        attempts     INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (mailbox, uidvalidity, uid)
    ) WITHOUT ROWID;
    CREATE INDEX messages_imap_uid ON messages(mailbox, uidvalidity, uid) WHERE uid IS NOT NULL;
    "#,
    // 10 (advisory, issue 15): a report's advisory fields, as one JSON object per report
    // (core::advisory). Each change is audited as an `advisory:FIELD` event whose before/after
    // are the field's JSON values. `osv_id` is the `PREFIX-YYYY-N` id given at the first OSV
    // export, then kept.
    r#"
    CREATE TABLE advisories (
        report_id   INTEGER PRIMARY KEY REFERENCES reports(id),
        fields      TEXT NOT NULL DEFAULT '{}',
        osv_id      TEXT UNIQUE,
        published   TEXT,                         -- RFC 3339, set with osv_id
        updated_at  TEXT NOT NULL
    );
    "#,
    // 11 (pgp, issue 16): a message's OpenPGP state as JSON (`core::pgp::PgpInfo`:
    // encrypted, signature, signer); NULL for mail with no OpenPGP part.
    r#"
    ALTER TABLE messages ADD COLUMN pgp TEXT;
    "#,
    // 12 (classifier): the learned combiner's weights (core::classify::stack), fitted by
    // `secdesk train` or read from the starter model: per decision (spam, valid, cutoff) and
    // input, one weight. A store without rows falls back to summing log-odds.
    r#"
    CREATE TABLE classify_weights (
        side    TEXT NOT NULL,
        name    TEXT NOT NULL,
        weight  REAL NOT NULL,
        PRIMARY KEY (side, name)
    );
    "#,
    // 13 (mailman): moderation of a Mailman 3 list's held queue (core::moderation). One row per
    // action a moderator took from this desk, keyed by list + request id + message id. The
    // trigger attaches that history to the report the post becomes or joins when it later
    // arrives by sync or import (matched by Message-ID), as `moderation` events, on every path
    // that stores a message. Self-contained: its own table, indexes and trigger. A later
    // migration that rebuilds `messages` must create the trigger again (SQLite drops it).
    r#"
    CREATE TABLE moderation (
        id           INTEGER PRIMARY KEY,
        list         TEXT NOT NULL,     -- as configured in [mailman] lists
        request_id   INTEGER NOT NULL,  -- Mailman's held-message request id
        message_id   TEXT,              -- without angle brackets, as messages.message_id
        action       TEXT NOT NULL,     -- accept | discard | reject | defer
        moderator    TEXT NOT NULL,     -- the [identity] email
        at           TEXT NOT NULL,     -- RFC 3339 UTC
        held_at      TEXT,              -- Mailman's hold_date, RFC 3339 UTC
        sender       TEXT,
        subject      TEXT,
        comment      TEXT,              -- a reject's reason, as sent to the sender
        class        TEXT,              -- the classifier's verdict when the action was taken
        outcome      TEXT,
        spam_score   REAL,
        report_id    INTEGER REFERENCES reports(id) -- set once the post is in the store
    );
    CREATE INDEX moderation_key ON moderation(list, request_id, message_id);
    CREATE INDEX moderation_message ON moderation(message_id) WHERE report_id IS NULL;
    CREATE INDEX moderation_at ON moderation(at);

    CREATE TRIGGER moderation_attach AFTER INSERT ON messages
    WHEN NEW.message_id IS NOT NULL AND NEW.direction = 'in'
    BEGIN
        INSERT INTO events (report_id, actor, at, kind, before, after, detail)
            SELECT NEW.report_id, moderator, at, 'moderation', 'held', action,
                   'list ' || list || ', request ' || request_id
                   || CASE WHEN comment IS NOT NULL THEN ': ' || comment ELSE '' END
            FROM moderation
            WHERE message_id = NEW.message_id AND report_id IS NULL
            ORDER BY id;
        UPDATE moderation SET report_id = NEW.report_id
            WHERE message_id = NEW.message_id AND report_id IS NULL;
    END;
    "#,
    // 14 (team): the team event log shared through the IMAP events folder (core::team,
    // docs/team.md). Self-contained: only its own tables.
    r#"
    -- Every team event applied here, local or fetched, keyed by its unique id (applying one
    -- twice changes nothing). `pending` = its report's mail is not here yet.
    CREATE TABLE team_events (
        id          TEXT PRIMARY KEY,
        report_key  TEXT NOT NULL,              -- mid:<Message-ID> | hash:<content hash>
        register    TEXT,                       -- the last-writer-wins field it sets, if any
        lamport     INTEGER NOT NULL,
        actor       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        at          TEXT NOT NULL,
        json        TEXT NOT NULL,              -- the event exactly as exchanged
        pending     INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX team_events_register ON team_events(report_key, register);
    CREATE INDEX team_events_pending ON team_events(pending) WHERE pending = 1;

    -- The winner of each last-writer-wins field: greatest (lamport, actor, id).
    CREATE TABLE team_registers (
        report_key  TEXT NOT NULL,
        register    TEXT NOT NULL,              -- state | class | coordinator | advisory:F | reply:EMAIL
        event_id    TEXT NOT NULL,
        lamport     INTEGER NOT NULL,
        actor       TEXT NOT NULL,
        PRIMARY KEY (report_key, register)
    ) WITHOUT ROWID;

    -- Concurrent writes that lost, derived from the events (the same on every desk), and the
    -- audit row (events.kind = 'conflict') that shows each.
    CREATE TABLE team_conflicts (
        loser_id     TEXT PRIMARY KEY,
        report_key   TEXT NOT NULL,
        register     TEXT NOT NULL,
        winner_id    TEXT NOT NULL,
        text         TEXT NOT NULL,
        audit_event  INTEGER
    );
    CREATE INDEX team_conflicts_register ON team_conflicts(report_key, register);

    -- Events made here, in order, until the events folder has them.
    CREATE TABLE team_outbox (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id  TEXT NOT NULL UNIQUE,
        json      TEXT NOT NULL
    );

    -- The Lamport clock: the greatest clock seen or made here.
    CREATE TABLE team_clock (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        lamport  INTEGER NOT NULL
    );

    -- Where reading the events folder got to (RFC 3501 §2.3.1.1).
    CREATE TABLE team_cursor (
        mailbox      TEXT PRIMARY KEY,
        uidvalidity  INTEGER NOT NULL,
        last_uid     INTEGER NOT NULL
    );

    -- Moderation to write back to the server (core::team::moderation): a report confirmed
    -- spam goes to Junk with $Junk, confirmed non-spam gets $NotJunk, a restored one moves
    -- back. Done by the desk that made the change, at its next sync.
    CREATE TABLE moderation_queue (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        report_id  INTEGER NOT NULL REFERENCES reports(id),
        action     TEXT NOT NULL,               -- junk | notjunk | restore
        queued_at  TEXT NOT NULL,
        done_at    TEXT,
        error      TEXT
    );
    CREATE INDEX moderation_queue_report ON moderation_queue(report_id);
    "#,
    // 15 (compact store): raw messages are kept as zstd frames (core::store::raw), byte-exact
    // on read. Every old value is packed, in this migration's one transaction: a crash
    // leaves the store as it was and the next open packs again. SQLite updates row by row,
    // so memory stays bounded by the largest message. `secdesk_pack_raw` is registered on
    // every connection the store opens (Store::configure).
    r#"
    UPDATE messages SET raw = secdesk_pack_raw(raw);
    "#,
    // 16 (compact store): the classifier's reasons are kept once. The message that opened a
    // report had the same JSON as its report (reports.reasons, which the desk shows);
    // only the report keeps it now. Nothing reads messages.reasons of such a message.
    r#"
    UPDATE messages SET reasons = NULL
    WHERE reasons IS NOT NULL
      AND id = (SELECT min(f.id) FROM messages f WHERE f.report_id = messages.report_id)
      AND reasons = (SELECT r.reasons FROM reports r WHERE r.id = messages.report_id);
    "#,
    // 17 (compact store): a decoded body is not kept when the raw message gives it back
    // (core::store::body): `secdesk_body` decodes it on read. Kept: OpenPGP mail (its text
    // may be the decrypted one) and any body an older parser decoded differently from
    // today's, so what was indexed for search is still what is shown. The full-text index
    // is untouched (it is contentless: it never held the text).
    r#"
    UPDATE messages SET body = ''
    WHERE body != '' AND pgp IS NULL AND body = secdesk_body('', NULL, raw);
    "#,
    // 18 (compact store): two indexes that others cover. `reports_state_created` and
    // `reports_coordinator_created` begin with the same column, so SQLite uses them for
    // every lookup by state or by coordinator alone; the single-column copies only cost
    // space and a write per report.
    r#"
    DROP INDEX IF EXISTS reports_state;
    DROP INDEX IF EXISTS reports_coordinator;
    "#,
    // 19 (held queue): verdicts of held posts kept between listings, so a listing classifies
    // only the posts it has not seen with this classifier (`core::moderation::cache`).
    // `message` is the SHA-256 of the post's raw bytes; `classifier` is
    // `Classifier::cache_key`. Derived data: it may be emptied at any time.
    r#"
    CREATE TABLE IF NOT EXISTS held_verdicts (
        message     BLOB NOT NULL,
        classifier  BLOB NOT NULL,
        verdict     TEXT NOT NULL,
        stored_at   INTEGER NOT NULL,
        PRIMARY KEY (message, classifier)
    ) WITHOUT ROWID;
    "#,
    // 20 (compact store): zstd dictionaries for raw messages (core::store::dictionary). A
    // frame packed with one names it by `id` (its Dictionary_ID); new frames use the highest
    // `version`. Training and re-packing the messages with the first dictionary happen on
    // opening a store of at least 1,000 messages (or after the batch that brings it there),
    // in one transaction of their own, since they need zstd: a crash leaves the frames as
    // they were and the next open trains again.
    r#"
    CREATE TABLE IF NOT EXISTS raw_dictionaries (
        id          INTEGER PRIMARY KEY,          -- the Dictionary_ID frames name (RFC 8878)
        version     INTEGER NOT NULL UNIQUE,      -- 1, 2, ...: new frames use the highest
        dict        BLOB NOT NULL,
        samples     INTEGER NOT NULL,             -- how many messages it was trained on
        trained_at  TEXT NOT NULL                 -- RFC 3339 UTC
    );
    "#,
    // 21 (compact store): the classifier's reasons one per line, with their common words
    // as one control character each (core::store::reasons), instead of a JSON array of
    // sentences: about half the bytes. A list that form cannot carry stays JSON, which
    // the readers still read.
    r#"
    UPDATE reports SET reasons = secdesk_compact_reasons(reasons) WHERE reasons IS NOT NULL;
    UPDATE messages SET reasons = secdesk_compact_reasons(reasons) WHERE reasons IS NOT NULL;
    "#,
    // 22 (compact store): `messages.content_hash` as its 32 bytes ([`HASH_AS_BYTES`]).
    HASH_AS_BYTES,
    // 23 (compact store): the classifier's reasons are kept only on the report
    // (reports.reasons, which the desk shows and `show --json` prints). A later message's
    // reasons (messages.reasons) were written and never read: ingest no longer writes them,
    // and this drops those kept. Its class, outcome and scores stay on the message.
    r#"
    UPDATE messages SET reasons = NULL WHERE reasons IS NOT NULL;
    "#,
    // 24 (compact store): why a Date header was not used is kept as a code
    // (`messages.date_note`, core::parse::DateNote), not as a sentence in `notes`: the
    // sentence is written again from the code, the header as written (`date_header`) and
    // the arrival (`received_at`) when the message is shown. On a mailbox of old mail every
    // message had one, 4 MB of an 80 MB store. The sentences stored so far become codes
    // when they are exactly what this version writes; any other wording stays in `notes`.
    r#"
    ALTER TABLE messages ADD COLUMN date_note INTEGER;
    CREATE TEMP TABLE date_notes (
        id   INTEGER PRIMARY KEY,                  -- messages.id
        key  INTEGER NOT NULL,                     -- the sentence's place in `notes`
        code INTEGER NOT NULL
    );
    INSERT INTO temp.date_notes (id, key, code)
        SELECT id, max(key), max(code) FROM (
            SELECT m.id AS id, n.key AS key,
                   CASE
                       WHEN n.value LIKE '%) could not be read: the arrival time is used' THEN 1
                       WHEN n.value LIKE '%) is more than a day after it arrived ____-__-__ __:__ UTC: ordered and timed by its arrival instead' THEN 2
                       WHEN n.value LIKE '%) is more than a day after now: ordered and timed by its arrival instead' THEN 3
                       WHEN n.value LIKE '%) is more than 7 days before it arrived ____-__-__ __:__ UTC: ordered and timed by its arrival instead' THEN 4
                   END AS code
            FROM messages m, json_each(m.notes) n
            WHERE m.date_header IS NOT NULL AND m.notes IS NOT NULL AND json_valid(m.notes)
              AND n.type = 'text' AND n.value LIKE 'the Date header (%'
        )
        GROUP BY id HAVING count(*) = 1 AND max(code) IS NOT NULL;
    UPDATE messages SET
        date_note = (SELECT code FROM temp.date_notes d WHERE d.id = messages.id),
        notes = (SELECT json_group_array(n.value) FROM json_each(messages.notes) n
                 WHERE n.key != (SELECT key FROM temp.date_notes d WHERE d.id = messages.id)
                 HAVING count(*) > 0)
    WHERE id IN (SELECT id FROM temp.date_notes);
    DROP TABLE temp.date_notes;
    "#,
    // 25 (compact store): the full-text index keeps which terms a message holds, not where
    // (`detail = none`), and holds each pair of words that punctuation joins ("http.server",
    // "user@example") as a term of its own, so a search for such a term needs no positions
    // (core::store::search_terms). Positions were 60 % of the index. Rebuilt from the stored
    // messages, as salvage rebuilds it.
    r#"
    DROP TABLE messages_fts;
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        subject, sender, body,
        tokenize = "unicode61 categories 'L* N* Co Cn M* P* S*'",
        content = '', contentless_delete = 1, detail = none
    );
    INSERT INTO messages_fts (rowid, subject, sender, body)
        SELECT id, secdesk_search_terms(subject),
               secdesk_search_terms(CASE WHEN from_name IS NOT NULL AND from_name != ''
                    THEN from_name || ' <' || coalesce(from_addr, '') || '>'
                    ELSE coalesce(from_addr, '') END),
               secdesk_search_body(body, pgp, raw)
        FROM messages;
    "#,
    // 26 (compact store): an OpenPGP message's text is decoded from `raw` like any other
    // when it is the raw message's text, as received (signed mail read without a `[pgp]`
    // section, mail gpg did not open): `messages.pgp` carries `"text_as_received": true`
    // (core::store::body::AS_RECEIVED) and the body is not kept. Decrypted or verified
    // text, which `raw` cannot give back, stays in `body`, and so does any body whose raw
    // frame is damaged (`secdesk_raw_text` is then NULL).
    r#"
    UPDATE messages
    SET body = '', pgp = json_set(pgp, '$.text_as_received', json('true'))
    WHERE pgp IS NOT NULL AND body != '' AND json_valid(pgp)
      AND json_type(pgp) = 'object' AND body = secdesk_raw_text(raw);
    "#,
    // 27 (compact store): To, Cc and the Date header as written (kept only when it was not
    // used) are read from `raw` when a message is shown (core::store::header_columns), and
    // Reply-To and References, which nothing read from the store, are not kept either. A
    // stored To, Cc or Date header is dropped only when the raw message gives back the same
    // value; any other (an older parser's reading, a damaged frame) stays and is read as
    // stored.
    r#"
    UPDATE messages SET reply_to = NULL, refs = NULL
    WHERE reply_to IS NOT NULL OR refs IS NOT NULL;
    UPDATE messages SET
        to_addrs = CASE WHEN to_addrs IS secdesk_raw_header(raw, 'to_addrs')
                        THEN NULL ELSE to_addrs END,
        cc_addrs = CASE WHEN cc_addrs IS secdesk_raw_header(raw, 'cc_addrs')
                        THEN NULL ELSE cc_addrs END,
        date_header = CASE WHEN date_note IS NOT NULL
                            AND date_header IS secdesk_raw_header(raw, 'date_header')
                           THEN NULL ELSE date_header END
    WHERE to_addrs IS NOT NULL OR cc_addrs IS NOT NULL OR date_header IS NOT NULL;
    "#,
    // 28 (compact store): the indexes by coordinator and by original hold only the reports
    // that have one. Most reports have neither (spam is never assigned), and every lookup
    // names one (`coordinator = ?`, `duplicate_of = ?`), which SQLite matches to an index
    // on `... IS NOT NULL`. A message's date that is its arrival (its Date header was not
    // used, or gave the same second) is read from `received_at` (core::triage::view), as a
    // message without a Date header always was, instead of being stored twice.
    r#"
    DROP INDEX reports_coordinator_created;
    CREATE INDEX reports_coordinator_created ON reports(coordinator, created_at)
        WHERE coordinator IS NOT NULL;
    DROP INDEX reports_duplicate_of;
    CREATE INDEX reports_duplicate_of ON reports(duplicate_of) WHERE duplicate_of IS NOT NULL;
    UPDATE messages SET date = NULL WHERE date = received_at;
    "#,
    // 29 (team): when this desk learned of each other member's reply start, on its own
    // clock (core::team::replying): desks' clocks differ, and a start is judged by when it
    // arrived, not only by the writer's `at`.
    r#"
    CREATE TABLE IF NOT EXISTS team_arrivals (
        event_id    TEXT PRIMARY KEY,
        arrived_at  TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 30 (authserv): which authserv-id a message's SPF, DKIM and DMARC were read from, and
    // whether `[sync] authserv_id` named it when the message came in
    // (core::parse::auth_results). Verdicts read without one may be the sender's own
    // `Authentication-Results` field and are shown as unverified, as are those stored
    // before this column.
    r#"
    ALTER TABLE messages ADD COLUMN authserv_id TEXT;
    ALTER TABLE messages ADD COLUMN auth_trusted INTEGER NOT NULL DEFAULT 0;
    "#,
    // 31 (classify): campaigns count once (core::classify::campaign). Each trained message's
    // MinHash band keys, to find near-copies without reading every trained message; and which
    // trained messages are near-copies of a counted one under the same label (their tokens
    // are kept in classify_trained but not counted). Written so that it can run again.
    r#"
    CREATE TABLE IF NOT EXISTS classify_bands (
        band          INTEGER NOT NULL,
        content_hash  TEXT NOT NULL,
        PRIMARY KEY (band, content_hash)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS classify_bands_message ON classify_bands(content_hash);
    CREATE TABLE IF NOT EXISTS classify_copies (
        content_hash  TEXT PRIMARY KEY,             -- a near-copy, in classify_trained
        copy_of       TEXT NOT NULL                 -- the counted message it copies
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS classify_copies_of ON classify_copies(copy_of);
    "#,
    // 32 (sync): a UID an earlier FETCH's failure kept from being asked for was not tried:
    // such rows count no attempt (`Store::record_not_reached`), but earlier versions counted
    // one, so those UIDs were asked for after mail tried more often. Their counts go back
    // to 0. The prefix is `mailio::imap::sync`'s wording for them. Run again, it changes
    // nothing.
    r#"
    UPDATE imap_missing SET attempts = 0
    WHERE reason LIKE 'not reached, an earlier FETCH failed: %' AND attempts > 0;
    "#,
    // 33 (team): events from actors not in `[team] members`, kept unapplied until the actor
    // becomes a member (core::team::withheld), instead of dropped for good.
    r#"
    CREATE TABLE IF NOT EXISTS team_withheld (
        id          TEXT PRIMARY KEY,
        actor       TEXT NOT NULL,
        lamport     INTEGER NOT NULL,
        json        TEXT NOT NULL,              -- the event exactly as exchanged
        arrived_at  TEXT NOT NULL               -- on this desk's clock
    ) WITHOUT ROWID;
    "#,
    // 34 (team): clock milestones derived from the team's events, the same on every desk
    // whatever order they arrived in (core::team::milestones, read by core::clocks and
    // core::pep811). A report's row is written with its next team event.
    r#"
    CREATE TABLE IF NOT EXISTS team_milestones (
        report_id       INTEGER PRIMARY KEY,
        first_at        TEXT NOT NULL,          -- the report's earliest team event
        triaged_at      TEXT,
        coordinator_at  TEXT
    );
    "#,
];

/// `messages.content_hash` as its 32 bytes instead of 64 hex characters
/// (`core::parse::content_digest`), in the column and its unique index. The column keeps its
/// declared type: SQLite stores a blob in it as a blob. Readers that name a message in hex
/// (team events, the classifier's training records) convert with hex()/unhex(). A value
/// that is not 64 hex digits is left as it is; run again, it changes nothing, so salvage
/// runs it on every copy (a damaged store may be from before it).
pub const HASH_AS_BYTES: &str = r#"
    UPDATE messages SET content_hash = unhex(content_hash)
    WHERE typeof(content_hash) = 'text' AND length(content_hash) = 64
      AND unhex(content_hash) IS NOT NULL;
    "#;

/// How many migrations a store has had once the last migration that frees much space (packing
/// raw messages, dropping derivable bodies, Date notes as codes, the index without
/// positions, header columns read from `raw`) ran: a store migrated from
/// below this is compacted (`VACUUM`) once afterwards, which also makes it a store that
/// gives freed pages back (`auto_vacuum`, see `Store::vacuum`).
pub fn space_freed_by() -> i64 {
    MIGRATIONS
        .iter()
        .rposition(|m| {
            m.contains("secdesk_pack_raw(raw)")
                || m.contains("SET body = ''")
                || m.contains("ADD COLUMN date_note")
                || m.contains("detail = none")
                || m.contains("text_as_received")
                || m.contains("secdesk_raw_header")
                || m.contains("SET date = NULL")
        })
        .map_or(0, |i| i as i64 + 1)
}

/// Sets a store back to `version` for a test, as a store of that version would be: the
/// columns that later migrations add are dropped, since adding a column cannot run twice.
/// Every other later migration runs again unchanged on the next open.
#[cfg(test)]
pub(crate) fn rewind_to(conn: &rusqlite::Connection, version: i64) {
    for (marker, columns) in [
        ("ADD COLUMN date_note", &["date_note"][..]),
        (
            "ADD COLUMN auth_trusted",
            &["authserv_id", "auth_trusted"][..],
        ),
    ] {
        let added = MIGRATIONS
            .iter()
            .position(|m| m.contains(marker))
            .map_or(i64::MAX, |i| i as i64);
        if version <= added {
            for column in columns {
                conn.execute_batch(&format!("ALTER TABLE messages DROP COLUMN {column}"))
                    .expect("a store of this version has the column");
            }
        }
    }
    conn.pragma_update(None, "user_version", version)
        .expect("set the store's version");
}

/// How many migrations a store has had once its raw messages are packed: a store at a
/// lower `user_version` holds them as they arrived (salvage packs those it copies).
pub fn raw_packed_from() -> i64 {
    MIGRATIONS
        .iter()
        .position(|m| m.contains("secdesk_pack_raw(raw)"))
        .map_or(0, |i| i as i64 + 1)
}
