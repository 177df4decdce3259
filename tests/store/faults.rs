//! The store file under faults: loose mode, a foreign database, a read-only disk, another
//! writer holding the lock, a damaged file and a full disk. Each is checked for its one
//! clear line and for losing nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::desk::{bytes, mail, one_line, reports, stderr, Desk};
use crate::support::tmpfs::{fill, Tmpfs};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_loose_store_is_tightened_once_with_a_notice() {
    let desk = Desk::new();
    desk.import_ok(&reports(2, "x"));
    std::fs::set_permissions(&desk.db, std::fs::Permissions::from_mode(0o644)).unwrap();

    let out = desk.run(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let notice = one_line(&out, &["list"]);
    assert!(notice.starts_with("secdesk: notice: "), "{notice}");
    assert!(
        notice.contains("mode 0644") && notice.contains("now 0600"),
        "{notice}"
    );
    assert!(notice.contains(&desk.db.display().to_string()), "{notice}");
    assert_eq!(mode(&desk.db), 0o600);
    // The header row, then the two reports.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    // Once private, nothing more is said.
    desk.ok(&["list"]);

    // A store its owner made read-only stays read-only: only the others' bits go (it was
    // made 0600, writable again, and the next mark was written to it).
    std::fs::set_permissions(&desk.db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = desk.run(&["list"]);
    let notice = one_line(&out, &["list"]);
    assert!(notice.contains("now 0400"), "{notice}");
    assert_eq!(mode(&desk.db), 0o400);

    // `check` only reads: it says what the next command does (it said "makes it 0600",
    // which a read-only store is not made), and leaves the mode.
    std::fs::set_permissions(&desk.db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let checked = desk.ok(&["check"]);
    assert!(
        checked.contains("mode        0644, readable by others: the next other secdesk command on it takes the others' access away"),
        "{checked}"
    );
    assert_eq!(mode(&desk.db), 0o644);
    std::fs::set_permissions(&desk.db, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_foreign_database_is_refused_and_left_as_it_was() {
    let desk = Desk::new();
    let conn = rusqlite::Connection::open(&desk.db).unwrap();
    conn.execute_batch(
        "CREATE TABLE reports (id INTEGER PRIMARY KEY, title TEXT);
         INSERT INTO reports (title) VALUES ('quarterly');",
    )
    .unwrap();
    drop(conn);
    let before = bytes(&desk.db);
    for args in [
        &["list"][..],
        &["note", "1", "hello"],
        &["import", "/nonexistent"],
    ] {
        let line = desk.refused(args);
        assert!(
            line.contains(&format!(
                "the file {} is not a secdesk store",
                desk.db.display()
            )),
            "{line}"
        );
        assert!(line.contains("move it away"), "{line}");
    }
    assert_eq!(bytes(&desk.db), before, "the foreign file was changed");
    assert!(!PathBuf::from(format!("{}-wal", desk.db.display())).exists());
}

#[test]
fn an_existing_store_from_before_the_mark_still_opens() {
    let desk = Desk::new();
    desk.import_ok(&reports(3, "x"));
    // As the previous release left it: no application id.
    desk.db().pragma_update(None, "application_id", 0).unwrap();
    let list = desk.ok(&["list"]);
    assert_eq!(
        list.lines().count(),
        1 + 3,
        "the header row and three reports"
    );
    let id: i32 = desk
        .db()
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(id, 0x7365_6364);
}

/// A desk whose config lives in a normal temporary folder and whose store is on `fs`.
fn desk_on(fs: &Tmpfs) -> Desk {
    Desk::with_store(
        tempfile::tempdir().unwrap(),
        fs.path().join("secdesk.db"),
        "",
    )
}

/// A backup onto a disk too small for it said "the disk holding STORE is full" (the store's
/// disk, not the backup's) and left an empty file behind, which then refused the retry
/// ("already exists"). Now it names the backup, leaves nothing, and the retry elsewhere works.
#[test]
fn a_backup_onto_a_full_disk_names_the_backup_and_leaves_nothing() {
    let Some(fs) = Tmpfs::mount("256k") else {
        return;
    };
    let desk = Desk::new();
    desk.import_ok(&noisy_mail(120));
    let target = fs.path().join("backup.db");
    let out = desk.run(&["backup", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line = one_line(&out, &["backup"]);
    assert!(
        line.contains(&format!("cannot write the backup {}", target.display()))
            && line.contains("nothing was kept there"),
        "{line}"
    );
    assert!(!line.contains(&desk.db.display().to_string()), "{line}");
    let left: Vec<_> = std::fs::read_dir(fs.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let elsewhere = desk.dir.path().join("backup.db");
    desk.ok(&["backup", elsewhere.to_str().unwrap()]);
}

#[test]
fn a_read_only_disk_gives_one_line_and_loses_nothing() {
    let Some(fs) = Tmpfs::mount("8m") else { return };
    let desk = desk_on(&fs);
    desk.import_ok(&reports(3, "x"));
    desk.ok(&["note", "1", "before"]);
    fs.remount("ro");

    let line = desk.refused(&["note", "1", "after"]);
    assert!(
        line.contains(&format!(
            "the store {} is read-only: check its permissions",
            desk.db.display()
        )),
        "{line}"
    );
    let line = desk.refused(&["import", "/nonexistent-folder"]);
    assert!(line.contains("is read-only"), "{line}");

    fs.remount("rw");
    let show = desk.ok(&["show", "1"]);
    assert!(show.contains("before") && !show.contains("after"), "{show}");
    desk.ok(&["note", "1", "after"]);
    assert_eq!(desk.count("SELECT count(*) FROM notes"), 2);
    assert_eq!(desk.count("SELECT count(*) FROM messages"), 3);
}

/// Hands the desk's folder to `nobody` (root may write anything, so a permission test runs
/// secdesk as `nobody`); `false`, said loudly, when the tests do not run as root.
fn owned_by_nobody(desk: &Desk) -> bool {
    let chown = Command::new("chown")
        .args(["-R", "nobody"])
        .arg(desk.dir.path())
        .output()
        .unwrap();
    if !chown.status.success() {
        eprintln!(
            "skipped: cannot chown to nobody (run the tests as root): {}",
            stderr(&chown)
        );
    }
    chown.status.success()
}

/// Runs secdesk with `args` on the desk as `nobody`.
fn run_as_nobody(desk: &Desk, args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_secdesk"))
        .arg("--config")
        .arg(desk.dir.path().join("config.toml"))
        .args(args)
        .env("HOME", desk.dir.path())
        .output()
        .unwrap()
}

/// A `-shm` left by another user (a command once run as root beside a desk run as the team's
/// user) is not the user's to `chmod`: the line says whose it is and what to do instead.
#[test]
fn a_side_file_of_another_user_is_named_with_its_owner() {
    let desk = Desk::new();
    desk.import_ok(&reports(2, "x"));
    if !owned_by_nobody(&desk) {
        return;
    }
    let shm = PathBuf::from(format!("{}-shm", desk.db.display()));
    std::fs::write(&shm, []).unwrap();
    std::fs::set_permissions(&shm, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run_as_nobody(&desk, &["mark", "1", "spam"]);
    assert!(!out.status.success(), "{}", stderr(&out));
    // Beside the notice that the file is readable by others and could not be made private.
    let said = stderr(&out);
    let line = said
        .lines()
        .find(|l| l.starts_with("secdesk: error:"))
        .unwrap_or_else(|| panic!("no error line: {said}"));
    assert!(
        line.contains(&format!("its {} is read-only (mode 0644)", shm.display()))
            && line.contains("belongs to another user (uid 0)")
            && !line.contains("chmod 600"),
        "{line}"
    );
}

#[test]
fn a_store_file_without_write_permission_gives_one_line() {
    let desk = Desk::new();
    desk.import_ok(&reports(2, "x"));
    desk.ok(&["note", "1", "before"]);
    if !owned_by_nobody(&desk) {
        return;
    }
    std::fs::set_permissions(&desk.db, std::fs::Permissions::from_mode(0o400)).unwrap();
    let as_nobody = |args: &[&str]| run_as_nobody(&desk, args);
    let out = as_nobody(&["note", "1", "after"]);
    assert!(!out.status.success());
    let line = one_line(&out, &["note"]);
    assert!(
        line.contains(&format!(
            "the store {} is read-only: check its permissions",
            desk.db.display()
        )),
        "{line}"
    );
    // Reading still works, and nothing was lost or added.
    let out = as_nobody(&["show", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let show = String::from_utf8_lossy(&out.stdout);
    assert!(show.contains("before") && !show.contains("after"), "{show}");
}

#[test]
fn a_store_fixed_after_a_read_only_open_names_the_shm_file_still_read_only() {
    let desk = Desk::new();
    desk.import_ok(&reports(2, "x"));
    if !owned_by_nobody(&desk) {
        return;
    }
    let as_nobody = |args: &[&str]| run_as_nobody(&desk, args);
    let chmod = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    let folder = desk.db.parent().unwrap().to_path_buf();
    // The store made read-only, then its folder too: each attempt is refused as read-only.
    chmod(&desk.db, 0o400);
    let out = as_nobody(&["mark", "1", "spam"]);
    let line = one_line(&out, &["mark"]);
    assert!(
        !out.status.success() && line.contains("is read-only"),
        "{line}"
    );
    chmod(&folder, 0o500);
    let out = as_nobody(&["mark", "1", "spam"]);
    let line = one_line(&out, &["mark"]);
    assert!(
        !out.status.success() && line.contains("is read-only"),
        "{line}"
    );

    // The user fixes what the line named; the read-only open left its -shm behind.
    chmod(&desk.db, 0o600);
    chmod(&folder, 0o700);
    let shm = PathBuf::from(format!("{}-shm", desk.db.display()));
    assert_eq!(
        mode(&shm),
        0o400,
        "the read-only open made a read-only -shm"
    );
    let out = as_nobody(&["mark", "1", "spam"]);
    assert!(!out.status.success());
    let line = one_line(&out, &["mark"]);
    assert!(
        line.contains(&format!(
            "its {} is read-only (mode 0400): `chmod 600` it",
            shm.display()
        )),
        "{line}"
    );
    // Doing what it says is enough.
    chmod(&shm, 0o600);
    let out = as_nobody(&["mark", "1", "spam"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_store_locked_by_another_writer_is_busy_for_10_s_then_one_line() {
    let desk = Desk::new();
    desk.import_ok(&reports(2, "x"));
    let holder = desk.db();
    holder.busy_timeout(Duration::from_secs(5)).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO notes (report_id, author, at, text) VALUES (1, 'other', '2026-11-24T10:00:00Z', 'held');").unwrap();

    let started = Instant::now();
    let out = desk.run(&["note", "1", "blocked"]);
    let waited = started.elapsed();
    // 75 (EX_TEMPFAIL): a script runs it again later, rather than giving up.
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let line = one_line(&out, &["note", "1", "blocked"]);
    assert!(
        line.contains(&format!(
            "the store {} is busy: another secdesk is writing; retried for 10 s",
            desk.db.display()
        )),
        "{line}"
    );
    assert!(waited >= Duration::from_secs(9), "gave up after {waited:?}");
    // Readers are not blocked by a writer (WAL).
    assert_eq!(
        desk.ok(&["list"]).lines().count(),
        1 + 2,
        "the header row and two reports"
    );

    holder.execute_batch("COMMIT").unwrap();
    desk.ok(&["note", "1", "after"]);
    let texts: Vec<String> = desk
        .db()
        .prepare("SELECT text FROM notes ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(texts, ["held", "after"]);
}

/// Overwrites page `pageno` (numbered from 1, as SQLite does) of the store with garbage.
fn damage(path: &Path, pageno: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start((pageno - 1) * 16384)).unwrap();
    f.write_all(&[0xa5; 16384]).unwrap();
}

/// A leaf page of the `messages` table from the middle of the file (SQLite's `dbstat`), so
/// the damage hits stored mail whatever the rest of the file's layout.
fn a_page_of_messages(conn: &rusqlite::Connection) -> u64 {
    let pages: Vec<u64> = conn
        .prepare("SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf' ORDER BY pageno")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(pages.len() > 10, "the messages fill pages: {pages:?}");
    pages[pages.len() / 2]
}

#[test]
fn a_salvage_does_not_count_a_table_it_could_not_read_as_nothing_lost() {
    let desk = Desk::new();
    desk.import_ok(&noisy_mail(3));
    // Confirming a class stores the classifier's model: a table without row ids, copied
    // all or nothing.
    desk.ok(&["mark", "1", "spam"]);
    let conn = desk.db();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let (root, rows): (u64, i64) = conn
        .query_row(
            "SELECT (SELECT rootpage FROM sqlite_master WHERE name = 'classify_tokens'), \
             (SELECT count(*) FROM classify_tokens)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(rows > 100, "the model was stored: {rows} rows");
    drop(conn);
    damage(&desk.db, root);
    let copy = desk.dir.path().join("salvaged.db");
    let out = desk.run(&["backup", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "rows lost: {}", stderr(&out));
    assert!(stderr(&out).contains("lacks rows"), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    let line = said
        .lines()
        .find(|l| l.trim_start().starts_with("classify_tokens:"))
        .unwrap_or_else(|| panic!("the damaged table is not named: {said}"));
    assert!(
        line.contains("0 rows copied") && line.contains("how many rows were lost is not known"),
        "{line}"
    );
    assert!(!said.contains("at most 0 lost"), "{said}");
}

/// `n` messages of a few KB each that do not compress (raw mail is stored compressed), so
/// they fill pages of the file.
fn noisy_mail(n: usize) -> Vec<String> {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    (0..n)
        .map(|i| {
            let noise: String = (0..4000)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    char::from(
                        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            [(seed % 52) as usize],
                    )
                })
                .collect();
            let body = format!("the parser reads past the end of the buffer.\n{noise}\n");
            mail(
                i,
                "Rita Reporter <rita@reporter.example>",
                &format!("finding {i}"),
                &body,
            )
        })
        .collect()
}

/// Runs `backup` of the desk's damaged store into a new file, checks the copy (whole, mode
/// 0600), and puts it in place of the store, the damaged one kept as `damaged.db`. Returns
/// what `backup` said. When it names rows lost, it exits 1 and says so (a copy that lacks
/// rows is not a backup a script may rotate the last good ones out for); else 0.
fn salvage_into_place(desk: &Desk) -> String {
    let copy = desk.dir.path().join("salvaged.db");
    let out = desk.run(&["backup", copy.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let lost = said.contains(" lost") || said.contains("could not be read at all");
    assert_eq!(
        out.status.code(),
        Some(i32::from(lost)),
        "{said}{}",
        stderr(&out)
    );
    assert_eq!(
        stderr(&out).contains("lacks rows the damaged store could not give"),
        lost,
        "{}",
        stderr(&out)
    );
    let out = desk.run(&["check", copy.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(mode(&copy), 0o600);
    std::fs::rename(&desk.db, desk.dir.path().join("damaged.db")).unwrap();
    std::fs::rename(&copy, &desk.db).unwrap();
    said
}

#[test]
fn a_damaged_store_refuses_writes_reads_with_a_notice_and_is_recovered() {
    let desk = Desk::new();
    // The messages fill most of the file's pages, so the damaged page is one of theirs.
    let mail = noisy_mail(200);
    desk.import_ok(&mail);
    desk.ok(&["note", "1", "kept"]);
    let conn = desk.db();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let page = a_page_of_messages(&conn);
    drop(conn);
    damage(&desk.db, page);
    let before = bytes(&desk.db);

    // A write is refused, naming the file and the way out; the file is untouched.
    let line = desk.refused(&["note", "1", "lost?"]);
    assert!(
        line.contains(&format!("the store {} is damaged", desk.db.display())),
        "{line}"
    );
    assert!(
        line.contains("secdesk backup") && line.contains("secdesk check"),
        "{line}"
    );
    desk.refused(&["import", "/nonexistent-folder"]);
    assert_eq!(bytes(&desk.db), before, "a refused write changed the file");

    // A read still works, with one notice.
    let out = desk.run(&["show", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let notice = one_line(&out, &["show", "1"]);
    assert!(
        notice.contains("is damaged") && notice.contains("read-only"),
        "{notice}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept"));
    // A report it cannot find may be the damage's doing: said so, not "no report #N" (the
    // user was told the number was wrong while the file held the report).
    for args in [&["show", "9999"][..], &["log", "9999"]] {
        let out = desk.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("report #9999 could not be read: the store")
                && err.contains("secdesk backup NEW_FILE"),
            "{args:?}: {err}"
        );
    }

    // `check` says so, with the steps.
    let out = desk.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("integrity   DAMAGED"), "{report}");
    assert!(report.contains("secdesk backup NEW_FILE"), "{report}");
    let out = desk.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Exit 1 comes with its line on stderr, as README's exit table promises.
    let line = one_line(&out, &["check", "--json"]);
    assert!(line.contains("is not whole: it is damaged"), "{line}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["integrity_ok"], false);
    assert!(!json["damage"].as_array().unwrap().is_empty());
    assert!(
        json["messages"].is_null(),
        "a damaged file is not read further"
    );

    // `backup` salvages what can be read into a whole store, put in place of the store.
    let said = salvage_into_place(&desk);
    assert!(said.contains("salvaged"), "{said}");
    desk.ok(&["note", "1", "recovered"]);
    let kept = desk.count("SELECT count(*) FROM messages");
    assert!(kept > 150 && kept < 200, "{kept} messages salvaged");
    assert_eq!(desk.count("SELECT count(*) FROM notes"), 2);
    // Its search index was rebuilt: every report that kept a message is found by the
    // sender's address.
    let found = desk.ok(&["list", "--search", "rita@reporter.example", "--json"]);
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    assert_eq!(
        found.as_array().map(Vec::len),
        Some(desk.count("SELECT count(DISTINCT report_id) FROM messages") as usize)
    );
}

/// A store file cut short (a copy stopped half-way, a full disk under another tool):
/// SQLite refuses the whole file when it is shorter than its header says, so no command
/// could open it, and each one sent the user to `check` and `backup`, which could not open it
/// either. Now the error says what is wrong, `check` reports it from the header, and
/// `backup` salvages what the file still holds.
#[test]
fn a_store_cut_short_is_named_checked_and_salvaged() {
    let desk = Desk::new();
    desk.import_ok(&noisy_mail(200));
    desk.ok(&["note", "1", "kept"]);
    let conn = desk.db();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let page: u64 = conn
        .pragma_query_value(None, "page_size", |r| r.get(0))
        .unwrap();
    drop(conn);
    let full = std::fs::metadata(&desk.db).unwrap().len();
    let short = full - 3 * page;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&desk.db)
        .unwrap()
        .set_len(short)
        .unwrap();
    let before = bytes(&desk.db);

    let line = desk.refused(&["list"]);
    assert!(
        line.contains(&format!(
            "the store {} cannot be read at all",
            desk.db.display()
        )) && line.contains(&format!(
            "cut short: {short} bytes where its header says {full}"
        )) && line.contains("secdesk backup NEW_FILE"),
        "{line}"
    );
    assert!(
        !line.contains("run `secdesk check`"),
        "sent in circles: {line}"
    );

    let out = desk.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("integrity   DAMAGED") && report.contains("cut short"),
        "{report}"
    );
    let out = desk.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["integrity_ok"], false);
    assert_eq!(json["owner"], "secdesk");

    let said = salvage_into_place(&desk);
    assert!(
        said.contains("salvaged") && said.contains("cut short"),
        "{said}"
    );
    assert_eq!(
        bytes(&desk.dir.path().join("damaged.db")),
        before,
        "the damaged store was changed"
    );
    let leftovers: Vec<_> = std::fs::read_dir(desk.dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("salvaging"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let kept = desk.count("SELECT count(*) FROM messages");
    assert!(kept > 150 && kept <= 200, "{kept} messages salvaged");
    desk.ok(&["note", "1", "recovered"]);
}

/// A store whose list of tables is itself damaged cannot be salvaged, not even from a copy
/// made whole: `backup` says so of the store and says what to do, instead of sending the user
/// to `backup` again (or naming the copy it removed).
#[test]
fn a_store_whose_schema_is_damaged_says_nothing_can_be_salvaged() {
    let desk = Desk::new();
    desk.import_ok(&reports(3, "x"));
    desk.db()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&desk.db)
            .unwrap();
        f.seek(SeekFrom::Start(100)).unwrap();
        f.write_all(&[0xA5; 4000]).unwrap();
    }
    let before = bytes(&desk.db);
    let copy = desk.dir.path().join("salvaged.db");
    let line = desk.refused(&["backup", copy.to_str().unwrap()]);
    assert!(
        line.contains(&format!(
            "nothing in the store {} can be read",
            desk.db.display()
        )) && line.contains("restore your latest backup")
            && !line.contains("salvaging"),
        "{line}"
    );
    assert_eq!(bytes(&desk.db), before, "the damaged store was changed");
    assert!(!copy.exists());
}

#[test]
fn a_whole_store_is_backed_up_while_in_use_and_never_over_a_file() {
    let desk = Desk::new();
    desk.import_ok(&reports(5, "x"));
    // Another desk is in the middle of writing: the backup neither waits for it nor
    // copies its unfinished change.
    let writer = desk.db();
    writer
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM notes; INSERT INTO notes (report_id, author, at, text) VALUES (1, 'other', 't', 'unfinished');")
        .unwrap();
    let copy = desk.dir.path().join("b.db");
    let started = Instant::now();
    let said = desk.ok(&["backup", copy.to_str().unwrap()]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the backup waited for the writer"
    );
    writer.execute_batch("COMMIT").unwrap();
    assert!(said.starts_with("copied the store"), "{said}");
    assert!(desk
        .ok(&["check", copy.to_str().unwrap()])
        .contains("integrity   ok"));
    let line = desk.refused(&["backup", copy.to_str().unwrap()]);
    assert!(line.contains("already exists"), "{line}");
    let copied = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert_eq!(copied, 5);
    let notes = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row("SELECT count(*) FROM notes", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert_eq!(notes, 0, "the copy holds an unfinished change");
}

#[test]
fn a_full_disk_gives_one_line_and_loses_nothing() {
    let Some(fs) = Tmpfs::mount("4m") else { return };
    let desk = desk_on(&fs);
    desk.import_ok(&reports(3, "x"));
    desk.ok(&["note", "1", "before"]);
    let filler = fill(fs.path());

    let big = "a long proof of concept. ".repeat(4000);
    let line = desk.refused(&["note", "1", &big]);
    assert!(
        line.contains(&format!("the disk holding {} is full", desk.db.display())),
        "{line}"
    );
    let out = desk.import(&reports(40, &big));
    assert!(!out.status.success(), "import on a full disk exited 0");
    let line = one_line(&out, &["import"]);
    assert!(line.contains("is full"), "{line}");

    std::fs::remove_file(filler).unwrap();
    let check = desk.ok(&["check"]);
    assert!(check.contains("integrity   ok"), "{check}");
    assert_eq!(desk.count("SELECT count(*) FROM notes"), 1);
    assert!(desk.count("SELECT count(*) FROM messages") >= 3);
    desk.ok(&["note", "1", "after"]);
    assert_eq!(desk.count("SELECT count(*) FROM notes"), 2);
}

#[test]
fn a_damaged_raw_message_is_named_by_check_and_its_report_still_opens() {
    let desk = Desk::new();
    desk.import_ok(&reports(3, "x"));
    // One message's bytes cut short inside a sound file (a bad sector under the blob, an
    // outside write): SQLite's own checks pass.
    desk.db()
        .execute(
            "UPDATE messages SET raw = substr(raw, 1, 12) WHERE id = 2",
            [],
        )
        .unwrap();
    let out = desk.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("integrity   ok"), "{report}");
    assert!(
        report.contains("1 of 3 raw messages DAMAGED") && report.contains("message 2 of report #2"),
        "{report}"
    );
    // The store is not refused: the report opens and says what happened, and every other
    // report, and writes, work.
    let shown = desk.ok(&["show", "2"]);
    assert!(shown.contains("a stored raw message is damaged"), "{shown}");
    desk.ok(&["show", "3"]);
    desk.ok(&["note", "2", "read it on the server"]);
    // The same as JSON, with the same exit status.
    let out = desk.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["integrity_ok"], true);
    assert_eq!(json["whole"], false);
    assert_eq!(json["messages"]["checked"], 3);
    assert_eq!(json["messages"]["damaged"], 1);
    assert!(json["messages"]["damaged_listed"][0]
        .as_str()
        .is_some_and(|l| l.contains("message 2 of report #2")));
    // A whole store says so.
    let other = Desk::new();
    other.import_ok(&reports(2, "y"));
    assert!(other
        .ok(&["check"])
        .contains("messages    2 raw messages read back, all whole"));
    let json: serde_json::Value = serde_json::from_str(&other.ok(&["check", "--json"])).unwrap();
    assert_eq!(
        (json["whole"].as_bool(), json["private"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(json["mode"], "0600");
    assert_eq!(json["messages"]["damaged"], 0);
}

#[test]
fn check_does_not_call_messages_whole_that_it_could_not_read() {
    let desk = Desk::new();
    desk.import_ok(&reports(2, "x"));
    // A store another program changed so that its raw messages cannot be selected.
    desk.db()
        .execute_batch("ALTER TABLE messages DROP COLUMN raw")
        .unwrap();
    let out = desk.run(&["check"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}{}", stderr(&out));
    assert!(
        report.contains("NOT CHECKED") && report.contains("no such column: raw"),
        "{report}"
    );
    assert!(!report.contains("all whole"), "{report}");
}

/// The folder that holds the folder of `path` (the test's own, which exists).
fn dir_of(path: &std::path::Path) -> std::path::PathBuf {
    path.parent()
        .and_then(|p| p.parent())
        .unwrap()
        .to_path_buf()
}

/// A mistyped `[store] path` showed an empty store to `list` (creating it, and its folders):
/// a script could not tell it from an empty mailbox. A command that only reads never creates
/// the store; it names the path and what creates one.
#[test]
fn a_command_that_only_reads_never_creates_a_store_at_a_mistyped_path() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("secdsk").join("secdesk.db");
    let desk = Desk::with_store(dir, typo.clone(), "");
    // classify and eval created the store and gave the starter model's verdicts as if they
    // were the team's; advisory and export created it, then said "no report #1".
    let mail = dir_of(&typo).join("one.eml");
    std::fs::write(&mail, "From: a@x.test\r\nSubject: hi\r\n\r\nhello\r\n").unwrap();
    let labelled = dir_of(&typo).join("labelled");
    std::fs::create_dir_all(labelled.join("spam")).unwrap();
    std::fs::copy(&mail, labelled.join("spam").join("one.eml")).unwrap();
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["stats", "--json"],
        &["show", "1"],
        &["advisory", "1", "--json"],
        &["advisory", "1", "--set", "cwe=CWE-79"],
        &["export", "1", "--format", "osv"],
    ] {
        let line = desk.refused(args);
        assert!(
            line.contains(&format!("there is no store at {}", typo.display()))
                && line.contains("[store] path"),
            "{args:?}: {line}"
        );
    }
    // classify and eval still answer (a new user tries them before any sync), with the
    // starter model, and say so.
    for args in [
        &["classify", mail.to_str().unwrap(), "--json"][..],
        &["eval", labelled.to_str().unwrap(), "--json"],
    ] {
        let out = desk.run(args);
        let err = stderr(&out);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "there is no store at {} yet, so this classifies with the starter model",
                typo.display()
            )),
            "{args:?}: {err}"
        );
    }
    assert!(!typo.exists(), "a read created the store");
    // A file named on the command line is named as such, not as `[store] path`.
    let line = desk.refused(&["check", typo.to_str().unwrap()]);
    assert!(line.ends_with("check the file name given"), "{line}");
    // Nor does a backup: it made an empty store and backed it up, exit 0.
    let copy = typo.parent().unwrap().with_file_name("backup.db");
    let line = desk.refused(&["backup", copy.to_str().unwrap()]);
    assert!(line.contains("there is no store at"), "{line}");
    assert!(!copy.exists(), "a backup of nothing was written");
    assert!(
        !typo.parent().unwrap().exists(),
        "a read created the store's folder"
    );
    // A command that stores mail still creates it.
    desk.import_ok(&reports(1, "first"));
    assert_eq!(desk.ok(&["list", "--json"]).matches("\"id\"").count(), 1);
}

/// `secdesk demo --db FILE` keeps the demo in FILE; pointed at the team's store (a slip of
/// the path), it loaded the demo's fake reports, a forged "CRITICAL RCE" among them, into
/// the real queue without a word. It now refuses a store with mail of its own, and still
/// opens an earlier demo's.
#[test]
fn the_demo_is_never_loaded_into_a_store_with_mail_of_its_own() {
    let desk = Desk::new();
    desk.import_ok(&reports(1, "real"));
    let before = desk.count("SELECT count(*) FROM messages");
    let file_before = bytes(&desk.db);
    let out = Command::new(env!("CARGO_BIN_EXE_secdesk"))
        .args(["demo", "--list", "--db"])
        .arg(&desk.db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line = one_line(&out, &["demo"]);
    assert!(line.contains("is a store with mail of its own"), "{line}");
    assert_eq!(
        bytes(&desk.db),
        file_before,
        "the real store was opened for writing"
    );
    assert_eq!(desk.count("SELECT count(*) FROM messages"), before);

    let demo = desk.dir.path().join("demo.db");
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_secdesk"))
            .args(["demo", "--list", "--db"])
            .arg(&demo)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
}
