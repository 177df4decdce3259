#!/usr/bin/env bash
# Sync benchmark: the SpamAssassin corpus (../shared/corpora/spamassassin, ~3,125 messages)
# put COPIES times into a Dovecot mailbox (default 6: ~18,750 messages), then, in the same
# run, over TLS on loopback:
#   1. a raw fetch: `UID FETCH 1:* BODY.PEEK[]` through `openssl s_client`, nothing parsed
#      or stored (the floor any client pays for the bytes),
#   2. mbsync (isync) pulling the mailbox into a Maildir,
#   3. `secdesk sync` into a fresh database,
#   4. two `secdesk sync` runs with nothing new (the first one, then a warm one).
# Prints them side by side with the ratios the issue sets, CPU times, peak RSS, the load
# average and the store's size.
#
# Options:
#   --unique   each copy gets an `X-Bench-Copy: N` header, so every message is distinct and
#              secdesk parses, classifies and stores all of them (issue 17's figures);
#              without it the copies are byte-identical and secdesk stores the first copy
#              and skips the others as duplicates.
#   --100k     30 copies (93,750 messages) in an mdbox (implies --unique and --mdbox):
#              Dovecot serves a maildir of that size slowly (a read-write SELECT took 21 s).
#   --mdbox    the mailbox in Dovecot's mdbox layout, loaded with `doveadm import`, instead
#              of a maildir.
#   --no-mbsync  skips mbsync (minutes at 93,750 messages on a busy machine): for secdesk's
#              own figures; the mbsync ratio is then not printed.
#
# Usage: bench/sync.sh [--unique] [--100k] [--mdbox] [--no-mbsync] [COPIES]   Needs root, like the tests.
# SECDESK_CORPORA=/path/to/corpora to read the corpus from elsewhere;
# SECDESK_BENCH_KEEP_STORE=/path/file.db keeps a copy of the synced store for a closer look.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${SECDESK_CORPORA:-$root/../shared/corpora}/spamassassin"
copies=6
unique=0
layout=maildir
mbsync=1
for arg in "$@"; do
    case "$arg" in
        --unique) unique=1 ;;
        --mdbox) layout=mdbox ;;
        --100k) copies=30 unique=1 layout=mdbox ;;
        --no-mbsync) mbsync=0 ;;
        [0-9]*) copies=$arg ;;
        *)
            echo "bench/sync.sh: unknown argument '$arg'; usage: bench/sync.sh [--unique] [--100k] [--mdbox] [--no-mbsync] [COPIES]" >&2
            exit 2
            ;;
    esac
done

if [[ ! -d "$corpus/ham" || ! -d "$corpus/spam" ]]; then
    echo "bench/sync.sh: corpus not found at $corpus (expected ham/ and spam/ folders);" \
         "put the shared corpora beside the repository as ../shared/corpora, or set SECDESK_CORPORA" >&2
    exit 1
fi

need=()
[[ -x /usr/sbin/dovecot ]] || need+=(dovecot-imapd)
command -v mbsync >/dev/null || need+=(isync)
[[ -x /usr/bin/time ]] || need+=(time)
command -v openssl >/dev/null || need+=(openssl)
if ((${#need[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi

if [[ -z "${SECDESK_BINARY:-}" ]]; then
    echo "building release binary..." >&2
    (cd "$root" && cargo build --release --quiet --bin secdesk)
fi
secdesk="$(realpath "${SECDESK_BINARY:-$root/target/release/secdesk}")"

work="$(mktemp -d /tmp/secdesk-bench.XXXXXX)"
chmod 755 "$work"
dovecot_pid=""
cleanup() {
    if [[ -n "$dovecot_pid" ]]; then
        kill "$dovecot_pid" 2>/dev/null || true
        wait "$dovecot_pid" 2>/dev/null || true
    fi
    if [[ -n "${SECDESK_BENCH_KEEP_STORE:-}" && -f "$work/secdesk.db" ]]; then
        cp "$work/secdesk.db" "$SECDESK_BENCH_KEEP_STORE"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- Test CA and localhost certificate (rustls refuses a self-signed CA as leaf).
cd "$work"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 2 -subj "/CN=secdesk bench CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > leaf.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
    -days 2 -extfile leaf.ext 2>/dev/null

# --- The mail, written as a maildir (served as it is, or imported into an mdbox).
echo "writing $copies copies of the corpus ($layout, unique=$unique)..." >&2
mkdir -p run state mail src/bench/{cur,new,tmp}
echo "bench:{PLAIN}benchpw::::::" > passwd
chmod 644 passwd
cat > write.py <<'PY'
import os, sys, time
corpus, copies, cur, unique = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
files = sorted(os.path.join(corpus, d, f) for d in ("ham", "spam") for f in os.listdir(os.path.join(corpus, d)))
bodies = [open(f, "rb").read() for f in files]
stamp, n, size = int(time.time()), 0, 0
for copy in range(1, copies + 1):
    for body in bodies:
        n += 1
        data = (b"X-Bench-Copy: %d\n" % copy if unique else b"") + body
        size += len(data)
        with open(f"{cur}/{stamp}.M{n}.bench:2,", "wb") as out:
            out.write(data)
print(n, size)
PY
read -r total mail_bytes < <(/usr/bin/python3 write.py "$corpus" "$copies" "$work/src/bench/cur" "$unique")
if [[ $layout == maildir ]]; then
    mv src/bench mail/bench
    mail_location="maildir:$work/mail/%u"
else
    mail_location="mdbox:$work/mail/%u"
fi
chown -R dovecot:dovecot mail src

imap_port=$(free_port)
imaps_port=$(free_port)
cat > dovecot.conf <<EOF
protocols = imap
listen = 127.0.0.1
base_dir = $work/run
state_dir = $work/state
log_path = $work/dovecot.log
first_valid_uid = 1
first_valid_gid = 1
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
ssl = yes
ssl_cert = <$work/server.crt
ssl_key = <$work/server.key
disable_plaintext_auth = no
mail_location = $mail_location
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $work/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=$work/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    port = $imap_port
  }
  inet_listener imaps {
    port = $imaps_port
    ssl = yes
  }
}
service anvil {
  chroot =
}
EOF
/usr/sbin/dovecot -F -c dovecot.conf </dev/null >>dovecot.log 2>&1 &
dovecot_pid=$!
for _ in $(seq 1 200); do
    if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$imap_port; head -n1 <&3" 2>/dev/null | grep -q ready; then
        break
    fi
    sleep 0.05
done
if [[ $layout == mdbox ]]; then
    echo "importing into the mdbox..." >&2
    /usr/bin/time -f "%e" -o import.time \
        doveadm -c dovecot.conf import -u bench "maildir:$work/src/bench" "" all
    echo "imported in $(cat import.time) s" >&2
fi
rm -rf src
# Index the mailbox once, so no client pays for Dovecot's first scan.
served=$(doveadm -c dovecot.conf mailbox status -u bench messages INBOX | tr -dc '0-9')
echo "mailbox ready: $served of $total messages" >&2

load=$(cut -d' ' -f1-3 /proc/loadavg)
timed() { # timed NAME CMD... -> "seconds max_rss_kb user sys" in $work/NAME.time
    local name=$1
    shift
    /usr/bin/time -f "%e %M %U %S" -o "$work/$name.time" "$@"
}

# --- 1. The raw fetch: every message's bytes over TLS, nothing parsed or stored.
cat > rawfetch.sh <<EOF
printf 'a LOGIN bench benchpw\r\nb EXAMINE INBOX\r\nc UID FETCH 1:* BODY.PEEK[]\r\nd LOGOUT\r\n' |
    openssl s_client -quiet -ign_eof -CAfile $work/ca.crt -verify_return_error \
        -connect 127.0.0.1:$imaps_port -servername localhost 2>/dev/null | wc -c > $work/rawfetch.bytes
EOF
timed rawfetch bash rawfetch.sh
raw_bytes=$(cat rawfetch.bytes)

# --- 2. mbsync
mkdir -p mbsync
cat > mbsyncrc <<EOF
IMAPAccount bench
Host localhost
Port $imaps_port
User bench
Pass benchpw
SSLType IMAPS
CertificateFile $work/ca.crt

IMAPStore remote
Account bench

MaildirStore local
Path $work/mbsync/
Inbox $work/mbsync/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
EOF
if ((mbsync)); then
    timed mbsync mbsync -q -c mbsyncrc bench
    mbsync_files=$(find mbsync \( -path '*/cur/*' -o -path '*/new/*' \) -type f | wc -l)
else
    echo "0 0 0 0" > mbsync.time
    mbsync_files="skipped (--no-mbsync)"
fi
rm -rf mbsync

# --- 3. and 4. secdesk sync, fresh database, then twice with nothing new
cat > secdesk.toml <<EOF
[imap]
host = "localhost"
port = $imaps_port
security = "tls"
username = "bench"
password_env = "SECDESK_BENCH_PASSWORD"
ca_file = "$work/ca.crt"
mailbox = "INBOX"

[store]
path = "$work/secdesk.db"

[identity]
name = "Bench"
email = "bench@example.org"
EOF
export SECDESK_BENCH_PASSWORD=benchpw
timed full "$secdesk" --config secdesk.toml sync --verbose > full.out
timed nochange "$secdesk" --config secdesk.toml sync --verbose > nochange.out
timed nochange2 "$secdesk" --config secdesk.toml sync --verbose > nochange2.out
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
store_bytes=0
for f in secdesk.db secdesk.db-wal; do
    if [[ -f $f ]]; then store_bytes=$((store_bytes + $(stat -c %s "$f"))); fi
done
"$secdesk" --config secdesk.toml store --stats > stats.out
stored=$(sed -n 's/^messages *\([0-9]*\)[,:].*/\1/p' stats.out)

read -r raw_s _ raw_u raw_sys < rawfetch.time
read -r mb_s mb_kb mb_u mb_sys < mbsync.time
read -r full_s full_kb full_u full_sys < full.time
read -r nc_s nc_kb _ _ < nochange.time
read -r nc2_s _ _ _ < nochange2.time
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "ok" : "MISSED" }'; }
full_cpu=$(calc "$full_u + $full_sys")
vs_mbsync=$( ((mbsync)) && calc "$full_s / $mb_s" || echo "n/a")
vs_raw=$(calc "$full_s / $raw_s")
vs_mail=$(calc "$store_bytes / $mail_bytes")
kind=$([[ $unique == 1 ]] && echo "each unique" || echo "byte-identical copies")

cat <<EOF

Sync benchmark, $(date -u +%Y-%m-%dT%H:%MZ): $total messages ($copies x SpamAssassin corpus, $kind, $(calc "$mail_bytes / 1e6" 1) MB),
Dovecot $layout over TLS on loopback, $(nproc) cores; load average $load before, $load_after after
  raw fetch (UID FETCH 1:* BODY.PEEK[]) : $raw_s s   (openssl CPU $(calc "$raw_u + $raw_sys") s, $(calc "$raw_bytes / 1e6" 1) MB read)
  mbsync full pull                      : $mb_s s   (CPU $(calc "$mb_u + $mb_sys") s, peak RSS $((mb_kb / 1024)) MB, $mbsync_files files)
  secdesk sync, fresh db                : $full_s s   (CPU $full_cpu s = $(calc "$full_cpu / $total * 1000" 3) ms per message, peak RSS $((full_kb / 1024)) MB, $stored messages stored)
      $(cat full.out)
  secdesk sync, nothing new (first)     : $nc_s s   (peak RSS $((nc_kb / 1024)) MB)
  secdesk sync, nothing new (again)     : $nc2_s s
  store                                 : $(calc "$store_bytes / 1e6" 1) MB
  secdesk / mbsync                      : $vs_mbsync   (target <= 0.2: $( ((mbsync)) && verdict "$vs_mbsync" 0.2 || echo "not run"))
  secdesk / raw fetch                   : $vs_raw   (target <= 4: $(verdict "$vs_raw" 4))
  no-change sync, the first             : $nc_s s   (target < 0.1 s: $(verdict "$nc_s" 0.099))
  store / mail                          : $vs_mail   (target <= 0.6: $(verdict "$vs_mail" 0.6))
  peak RSS secdesk                      : $((full_kb / 1024)) MB   (target < 200 MB: $(verdict "$((full_kb / 1024))" 199))

$(head -3 stats.out)
EOF
