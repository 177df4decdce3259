//! Where the store's space goes (`secdesk store --stats`): the size of each table and
//! index from SQLite's `dbstat` virtual table (compiled into the bundled SQLite), or, if a
//! build lacks it, the file's page counts alone; and the bytes of the message columns that
//! dominate a store (raw messages, the decoded bodies still kept, reasons).

use rusqlite::Connection;
use serde::Serialize;

use super::Result;

/// The space one table or index takes.
#[derive(Debug, Clone, Serialize)]
pub struct Object {
    pub name: String,
    /// `table` or `index` (an FTS5 index's shadow tables are tables).
    pub kind: String,
    pub pages: i64,
    pub bytes: i64,
    /// Bytes of its pages that hold nothing (page slack).
    pub unused: i64,
}

/// Where the space goes.
#[derive(Debug, Clone, Serialize)]
pub struct Space {
    pub file_bytes: i64,
    pub page_size: i64,
    pub pages: i64,
    pub free_pages: i64,
    /// Pages of the pointer map a store with `auto_vacuum` keeps (one in 3,277 at 16 KB),
    /// which belong to no table or index.
    pub pointer_map_pages: i64,
    /// `dbstat`, or `page_count` when `dbstat` is not compiled in (then `objects` is empty).
    pub source: &'static str,
    /// Largest first.
    pub objects: Vec<Object>,
    pub messages: i64,
    /// Stored bytes of `messages.raw` (compressed), of `messages.body` and of
    /// `messages.reasons`.
    pub raw_bytes: i64,
    /// The raw messages' bytes as they came (the mail the store holds), read from each
    /// frame's header; `raw_unsized` frames do not say (damaged: `secdesk check`) and are
    /// not counted.
    pub mail_bytes: i64,
    pub raw_unsized: i64,
    pub body_bytes: i64,
    /// Messages whose decoded body is stored; the others' is decoded from the raw message
    /// on read (core::store::body).
    pub bodies_kept: i64,
    pub reasons_bytes: i64,
    /// The zstd dictionaries raw messages are packed with (core::store::dictionary): how
    /// many, and their bytes.
    pub dictionaries: i64,
    pub dictionary_bytes: i64,
}

/// Measures the store open on `conn`.
pub fn space(conn: &Connection) -> Result<Space> {
    let pragma =
        |name: &str| -> rusqlite::Result<i64> { conn.pragma_query_value(None, name, |r| r.get(0)) };
    let page_size = pragma("page_size")?;
    let pages = pragma("page_count")?;
    let free_pages = pragma("freelist_count")?;
    let pointer_map_pages = pointer_map_pages(pragma("auto_vacuum")?, page_size, pages);
    let (source, objects) = match objects(conn) {
        Ok(objects) => ("dbstat", objects),
        // "no such table: dbstat": a SQLite built without SQLITE_ENABLE_DBSTAT_VTAB.
        Err(_) => ("page_count", Vec::new()),
    };
    // One pass over the messages; `n` is each raw message's size as it came, read from its
    // frame's header.
    let sql = format!(
        "SELECT count(*), coalesce(sum(length(raw)), 0), coalesce(sum(length(CAST(body AS BLOB))), 0),
                count(*) FILTER (WHERE secdesk_body_kept(body, pgp)),
                coalesce(sum(length(CAST(reasons AS BLOB))), 0),
                coalesce(sum(n), 0), count(*) FILTER (WHERE n IS NULL)
         FROM (SELECT raw, body, pgp, reasons, {}(raw) AS n FROM messages)",
        super::raw::SQL_UNPACKED_LEN
    );
    let (messages, raw_bytes, body_bytes, bodies_kept, reasons_bytes, mail_bytes, raw_unsized) =
        conn.query_row(&sql, [], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
    // A store opened read-only before migration 20 has no such table.
    let (dictionaries, dictionary_bytes) = conn
        .query_row(
            "SELECT count(*), coalesce(sum(length(dict)), 0) FROM raw_dictionaries",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or((0, 0));
    Ok(Space {
        file_bytes: pages * page_size,
        page_size,
        pages,
        free_pages,
        pointer_map_pages,
        source,
        objects,
        messages,
        raw_bytes,
        mail_bytes,
        raw_unsized,
        body_bytes,
        bodies_kept,
        reasons_bytes,
        dictionaries,
        dictionary_bytes,
    })
}

/// How many of a file's `pages` are pointer-map pages: none without `auto_vacuum`; else
/// page 2 and one after every `usable / 5` pages that it maps (the SQLite file format, §1.7;
/// secdesk stores reserve no bytes per page, so all of a page is usable).
fn pointer_map_pages(auto_vacuum: i64, page_size: i64, pages: i64) -> i64 {
    if auto_vacuum == 0 || pages < 2 {
        return 0;
    }
    let stride = page_size / 5 + 1;
    (pages - 2) / stride + 1
}

fn objects(conn: &Connection) -> rusqlite::Result<Vec<Object>> {
    let mut stmt = conn.prepare(
        "SELECT d.name, coalesce(m.type, 'table'), sum(d.pageno), sum(d.pgsize), sum(d.unused)
         FROM dbstat AS d LEFT JOIN sqlite_schema AS m ON m.name = d.name
         WHERE d.aggregate = TRUE
         GROUP BY d.name ORDER BY sum(d.pgsize) DESC, d.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Object {
            name: r.get(0)?,
            kind: r.get(1)?,
            pages: r.get(2)?,
            bytes: r.get(3)?,
            unused: r.get(4)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::Store;

    #[test]
    fn every_table_and_index_is_counted_and_they_add_up_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let s = space(store.conn()).unwrap();
        assert_eq!(s.source, "dbstat");
        let names: Vec<&str> = s.objects.iter().map(|o| o.name.as_str()).collect();
        for expected in [
            "messages",
            "messages_report",
            "reports",
            "messages_fts_data",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        let counted: i64 = s.objects.iter().map(|o| o.pages).sum();
        // Every page but the free ones and the pointer map belongs to some b-tree (the
        // schema's included).
        assert_eq!(s.pointer_map_pages, 1);
        assert_eq!(counted + s.free_pages + s.pointer_map_pages, s.pages);
    }

    #[test]
    fn pointer_map_pages_follow_the_file_format() {
        // 16 KB pages: page 2 maps the 3,276 pages after it; page 3,279 is the next map.
        assert_eq!(pointer_map_pages(0, 16384, 10_000), 0);
        assert_eq!(pointer_map_pages(2, 16384, 1), 0);
        assert_eq!(pointer_map_pages(2, 16384, 2), 1);
        assert_eq!(pointer_map_pages(2, 16384, 3278), 1);
        assert_eq!(pointer_map_pages(2, 16384, 3279), 2);
    }
}
