#!/usr/bin/env bash
# Sync benchmark: the SpamAssassin corpus (../shared/corpora/spamassassin,
# ~3,125 messages) put six times into a Dovecot mailbox (~18,750 messages),
# then, in the same run:
#   1. mbsync (isync) pulling the mailbox into a Maildir,
#   2. `secdesk sync` into a fresh database,
#   3. a second `secdesk sync` with nothing new.
# Prints the three wall times, the ratio secdesk/mbsync and peak RSS.
#
# Each copy gets an `X-Bench-Copy: N` header so all 18,750 messages are
# distinct: secdesk parses and stores every one instead of skipping copies as
# duplicates (the harder case).
#
# Usage: bench/sync.sh [COPIES]      (default 6). Needs root, like the tests.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="$root/../shared/corpora/spamassassin"
copies="${1:-6}"

if [[ ! -d "$corpus/ham" || ! -d "$corpus/spam" ]]; then
    echo "bench/sync.sh: corpus not found at $corpus (expected ham/ and spam/ folders);" \
         "put the shared corpora beside the repository as ../shared/corpora" >&2
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

echo "building release binary..." >&2
(cd "$root" && cargo build --release --quiet)
secdesk="$root/target/release/secdesk"

work="$(mktemp -d /tmp/secdesk-bench.XXXXXX)"
chmod 755 "$work"
dovecot_pid=""
cleanup() {
    if [[ -n "$dovecot_pid" ]]; then
        kill "$dovecot_pid" 2>/dev/null || true
        wait "$dovecot_pid" 2>/dev/null || true
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

# --- The mailbox, written straight into the maildir (Dovecot indexes it on first access).
echo "writing $copies copies of the corpus into the maildir..." >&2
mkdir -p run state mail/bench/{cur,new,tmp}
echo "bench:{PLAIN}benchpw::::::" > passwd
chmod 644 passwd
total=$(/usr/bin/python3 - "$corpus" "$copies" "$work/mail/bench/cur" <<'PY'
import os, sys, time
corpus, copies, cur = sys.argv[1], int(sys.argv[2]), sys.argv[3]
files = sorted(os.path.join(corpus, d, f) for d in ("ham", "spam") for f in os.listdir(os.path.join(corpus, d)))
bodies = [open(f, "rb").read() for f in files]
stamp, n = int(time.time()), 0
for copy in range(1, copies + 1):
    for body in bodies:
        n += 1
        with open(f"{cur}/{stamp}.M{n}.bench:2,", "wb") as out:
            out.write(b"X-Bench-Copy: %d\n" % copy + body)
print(n)
PY
)
chown -R dovecot:dovecot mail

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
mail_location = maildir:$work/mail/%u
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
# Index the maildir once, so neither client pays for Dovecot's first scan.
doveadm -c dovecot.conf mailbox status -u bench messages INBOX >/dev/null
echo "mailbox ready: $total messages" >&2

load=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 1. mbsync
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
timed() { # timed NAME CMD... -> "seconds max_rss_kb" in $work/NAME.time
    local name=$1
    shift
    /usr/bin/time -f "%e %M %U %S" -o "$work/$name.time" "$@"
}
timed mbsync mbsync -q -c mbsyncrc bench
mbsync_files=$(find mbsync \( -path '*/cur/*' -o -path '*/new/*' \) -type f | wc -l)

# --- 2. and 3. secdesk sync, fresh database, then again with nothing new
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
stored=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from messages').fetchone()[0])" "$work/secdesk.db")

read -r mb_s mb_kb mb_u mb_sys < mbsync.time
read -r full_s full_kb full_u full_sys < full.time
read -r nc_s nc_kb _ _ < nochange.time
cpu() { awk -v u="$1" -v s="$2" 'BEGIN { printf "%.2f", u + s }'; }
ratio=$(awk -v a="$full_s" -v b="$mb_s" 'BEGIN { printf "%.2f", a / b }')
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "ok" : "MISSED" }'; }

cat <<EOF

Sync benchmark, $(date -u +%Y-%m-%d), $total messages ($copies x SpamAssassin corpus), Dovecot over TLS on loopback, $(nproc) cores
  load average before the run : $load
  mbsync full pull            : ${mb_s} s   (CPU $(cpu "$mb_u" "$mb_sys") s, peak RSS $((mb_kb / 1024)) MB, $mbsync_files files)
  secdesk sync, fresh db      : ${full_s} s   (CPU $(cpu "$full_u" "$full_sys") s, peak RSS $((full_kb / 1024)) MB, $stored messages stored)
                                $(cat full.out)
  secdesk sync, nothing new   : ${nc_s} s   (peak RSS $((nc_kb / 1024)) MB)
  ratio secdesk/mbsync        : ${ratio}   (target <= 0.35: $(verdict "$ratio" 0.35))
  no-change sync              : ${nc_s} s   (target < 0.3 s: $(verdict "$nc_s" 0.29))
  peak RSS secdesk            : $((full_kb / 1024)) MB   (target < 200 MB: $(verdict "$((full_kb / 1024))" 199))
EOF
