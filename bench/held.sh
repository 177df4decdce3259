#!/usr/bin/env bash
# Held-queue benchmark: a private GNU Mailman 3 core (Debian `mailman3`) holding N posts
# (default 1,000) from non-members, then `secdesk held --json` (fetch every page over REST,
# classify every post with the store's model) timed with the release binary, best of 3:
# cold (no verdict kept from an earlier listing: all posts classified) and warm (a refresh,
# every verdict reused from the store; core::moderation::cache).
# Also times, in the same run, where Mailman's time goes: the same queue asked for in
# different ways (one request, pages one after another, equal slices at once; Python's urllib
# and curl), each with the CPU seconds Mailman's REST processes spent (from /proc); and
# secdesk's own share (the same queue served at once by a replay server).
#
# The posts are the SpamAssassin corpus (../shared/corpora/spamassassin, ham and spam
# mixed) when it is there, otherwise generated text; only messages whose lines all fit
# LMTP's 1,000 characters are posted.
#
# Usage: bench/held.sh [N]     Needs root, like the tests. SECDESK_CORPUS=DIR names the
# corpus folder (with ham/ and spam/) when it is not at ../shared/corpora/spamassassin;
# SECDESK_BENCH_KEEP=DIR keeps the listing (held.json) and Mailman's first page there.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${SECDESK_CORPUS:-$root/../shared/corpora/spamassassin}"
count="${1:-1000}"

if [[ ! -x /usr/bin/mailman ]]; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y mailman3
fi

echo "building release binary..." >&2
(cd "$root" && cargo build --release --quiet)
secdesk="$root/target/release/secdesk"

work="$(mktemp -d /tmp/secdesk-bench-held.XXXXXX)"
master_pid=""
replay_pid=""
cleanup() {
    [[ -z "$replay_pid" ]] || kill "$replay_pid" 2>/dev/null || true
    if [[ -n "$master_pid" ]]; then
        kill -TERM "$master_pid" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$master_pid" 2>/dev/null || break; sleep 0.2; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
rest_port=$(free_port)
lmtp_port=$(free_port)
smtp_port=$(free_port)   # nothing is sent: no post is accepted
pass="bench-Pa55word"

cat > "$work/mailman.cfg" <<EOF
[mailman]
layout: testing
site_owner: owner@example.test

[paths.testing]
var_dir: $work/var
bin_dir: /usr/lib/mailman3/bin

[database]
class: mailman.database.sqlite.SQLiteDatabase
url: sqlite:///\$DATA_DIR/mailman.db

[webservice]
hostname: 127.0.0.1
port: $rest_port
admin_user: restadmin
admin_pass: $pass
# Mailman's default: two REST workers.
workers: 2

[mta]
incoming: mailman.mta.null.NullMTA
outgoing: mailman.mta.deliver.deliver
smtp_host: 127.0.0.1
smtp_port: $smtp_port
lmtp_host: 127.0.0.1
lmtp_port: $lmtp_port

[devmode]
enabled: yes
recipient: sink@example.test
EOF
for runner in archive bounces command nntp digest retry task; do
    printf '\n[runner.%s]\nstart: no\n' "$runner" >> "$work/mailman.cfg"
done

echo "starting mailman..." >&2
mailman --run-as-root -C "$work/mailman.cfg" start -q > "$work/start.log" 2>&1
for _ in $(seq 1 300); do
    [[ -s "$work/var/master.pid" ]] && break
    sleep 0.2
done
master_pid=$(cat "$work/var/master.pid")

/usr/bin/python3 - "$work" "$rest_port" "$lmtp_port" "$pass" "$count" "$corpus" <<'PY'
import base64, os, smtplib, socket, sys, time, urllib.request
work, rest, lmtp, password, count, corpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
base = f"http://127.0.0.1:{rest}/3.1"
auth = "Basic " + base64.b64encode(f"restadmin:{password}".encode()).decode()

def call(method, path, data=None):
    req = urllib.request.Request(base + path, method=method, data=data and data.encode(),
                                 headers={"Authorization": auth})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()

deadline = time.time() + 180
while True:
    try:
        call("GET", "/system/versions")
        socket.create_connection(("127.0.0.1", lmtp), timeout=5).close()
        break
    except Exception:
        if time.time() > deadline:
            sys.exit("mailman did not start; see " + work + "/var/logs/mailman.log")
        time.sleep(0.3)
call("POST", "/domains", "mail_host=example.org")
call("POST", "/lists", "fqdn_listname=security@example.org")
call("PATCH", "/lists/security.example.org/config",
     "default_nonmember_action=hold&respond_to_post_requests=false&admin_immed_notify=false")

def messages():
    if os.path.isdir(os.path.join(corpus, "ham")) and os.path.isdir(os.path.join(corpus, "spam")):
        ham, spam = ([os.path.join(corpus, d, f) for f in sorted(os.listdir(os.path.join(corpus, d)))]
                     for d in ("ham", "spam"))
        # Interleave ham and spam so any N is a mix (the longer folder's rest follows).
        files = [f for pair in zip(ham, spam) for f in pair]
        files += ham[len(spam):] + spam[len(ham):]
        for f in files:
            raw = open(f, "rb").read()
            if all(len(l) < 900 for l in raw.splitlines()):
                yield raw
    else:
        print("corpus not found at", corpus, "- posting generated text", file=sys.stderr)
    i = 0
    while True:
        i += 1
        yield (f"From: sender{i}@example.net\nSubject: held post {i}\n\n"
               f"Hello, this is post {i} about a possible crash in module{i % 37}.\n").encode()

print(f"posting {count} messages over LMTP...", file=sys.stderr)
conn = smtplib.LMTP("127.0.0.1", lmtp)
started = time.time()
n, refused, source = 0, 0, messages()
while n < count:
    raw = next(source)
    # A fresh Message-ID each, so no two posts are the same.
    # smtplib sends bytes as they are: the CRLF line ends (RFC 5321 §2.3.8) are ours to write.
    lines = [l for l in raw.replace(b"\r\n", b"\n").split(b"\n")
             if not l.lower().startswith(b"message-id:")]
    raw = f"Message-ID: <bench-{n}@example.test>\r\n".encode() + b"\r\n".join(lines)
    try:
        conn.sendmail(f"nonmember{n}@example.net", ["security@example.org"], raw)
        n += 1
    except smtplib.SMTPDataError as e:
        if refused < 3:
            print("LMTP refused a message:", e, file=sys.stderr)
        refused += 1  # take the next message, on a fresh connection: the refusal
        try:          # leaves the rest of that DATA in the stream
            conn.close()
        finally:
            conn = smtplib.LMTP("127.0.0.1", lmtp)
conn.quit()
print(f"{refused} messages refused by LMTP and skipped", file=sys.stderr)
print(f"waiting for mailman to hold them ({time.time() - started:.0f} s so far)...", file=sys.stderr)
last, still = -1, 0
while True:
    held = int(__import__("json").loads(call("GET", "/lists/security.example.org/held/count"))["count"])
    if held >= count:
        break
    still = still + 1 if held == last else 0
    if still > 60:
        print(f"only {held} of {count} held after a minute without change", file=sys.stderr)
        break
    last = held
    time.sleep(1)
print(f"{held} held after {time.time() - started:.0f} s", file=sys.stderr)
# Where Mailman's time goes: the same listing asked for in different ways, best of 3 each,
# with the CPU seconds Mailman's REST processes spent on it (from /proc).
import glob, json, subprocess, threading
list_path = "/lists/security.example.org/held"

def rest_pids():
    pids = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            cmd = open(d + "/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if work.encode() + b"/mailman.cfg" in cmd and b"--runner=rest:0:1" in cmd:
            pids.append(d)
    return pids

def rest_cpu():
    ticks = 0
    for d in rest_pids():
        try:
            f = open(d + "/stat").read().rsplit(")", 1)[1].split()
            ticks += int(f[11]) + int(f[12])
        except OSError:
            pass
    return ticks / os.sysconf("SC_CLK_TCK")

def pages(size, parallel, first_alone=False):
    """Every page of `size`, `parallel` requests at a time (the first alone, if asked)."""
    n = -(-held // size)
    order = list(range(1, n + 1))
    batches = [order[:1]] + [order[1 + i:1 + i + parallel] for i in range(0, n - 1, parallel)] \
        if first_alone else [order[i:i + parallel] for i in range(0, n, parallel)]
    for batch in batches:
        threads = [threading.Thread(target=call, args=("GET", f"{list_path}?count={size}&page={p}"))
                   for p in batch]
        [t.start() for t in threads]
        [t.join() for t in threads]

def curl_one():
    subprocess.run(["curl", "-sf", "-o", os.devnull, "-u", f"restadmin:{password}",
                    f"{base}{list_path}?count={held}&page=1"], check=True)

def timed(name, fn):
    best, cpu = None, None
    for _ in range(3):
        c, t = rest_cpu(), time.time()
        fn()
        took, spent = time.time() - t, rest_cpu() - c
        if best is None or took < best:
            best, cpu = took, spent
    print(f"{name} wall_best_s {best:.3f} mailman_cpu_s {cpu:.2f}")

timed("rest_overhead_x20_system_versions", lambda: [call("GET", "/system/versions") for _ in range(20)])
timed("rest_held_count_x20", lambda: [call("GET", list_path + "/count") for _ in range(20)])
timed("curl_one_request_all", curl_one)
timed("pages_200_one_after_another", lambda: pages(200, 1))
timed("pages_50_one_after_another", lambda: pages(50, 1))
timed("old_client_200_first_alone_then_3_at_once", lambda: pages(200, 3, first_alone=True))
timed("slices_2x500_at_once", lambda: pages(-(-held // 2), 2))
timed("slices_4x250_at_once", lambda: pages(-(-held // 4), 4))
timed("slices_8x125_at_once", lambda: pages(-(-held // 8), 8))
# Kept for the replay server below: the whole queue in one answer.
open(os.path.join(work, "all.json"), "wb").write(call("GET", f"{list_path}?count={held}&page=1"))
PY

# secdesk's own share: the same pages served at once by a replay server, so the time is
# fetching, parsing and classifying, not Mailman building the pages.
replay_port=$(free_port)
/usr/bin/python3 - "$work" "$replay_port" > "$work/replay.log" 2>&1 <<'PY' &
import http.server, json, os, re, sys
work, port = sys.argv[1], int(sys.argv[2])
everything = json.load(open(os.path.join(work, "all.json")))
entries = everything.get("entries", [])
class Replay(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/held/count"):
            body = {"count": len(entries)}
        else:
            m = re.search(r"/held\?count=(\d+)&page=(\d+)$", self.path)
            count, page = (int(m.group(1)), int(m.group(2))) if m else (len(entries), 1)
            part = entries[(page - 1) * count:page * count]
            body = {"start": (page - 1) * count, "total_size": len(entries)}
            if part:
                body["entries"] = part
        body = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Replay).serve_forever()
PY
replay_pid=$!

cat > "$work/config.toml" <<EOF
[store]
path = "$work/secdesk.db"

[identity]
name = "Bench"
email = "bench@example.org"

[mailman]
rest_url = "http://127.0.0.1:$rest_port/3.1"
username = "restadmin"
password_env = "SECDESK_BENCH_MAILMAN_PASSWORD"
lists = ["security@example.org"]
EOF

sed -e "s|127.0.0.1:$rest_port|127.0.0.1:$replay_port|" -e "s|secdesk.db|replay.db|" \
    "$work/config.toml" > "$work/replay.toml"

export SECDESK_BENCH_MAILMAN_PASSWORD="$pass"
# A first run sets up the store and its starter model; then the timed runs.
"$secdesk" --config "$work/config.toml" held --json > "$work/held.json"
[[ -z "${SECDESK_BENCH_KEEP:-}" ]] || cp "$work/held.json" "$work/all.json" "$SECDESK_BENCH_KEEP/"
listed=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), sum(1 for x in d if x["class"]=="spam"))' "$work/held.json")
TIMEFORMAT=%R
# Best of 3 `held --json` with CONFIG's store: cold (the verdicts kept by earlier listings
# are dropped before each run, so all 1,000 posts are classified) or warm (a refresh: every
# verdict is reused, see core::moderation::cache).
best_of_3() {
    local config=$1 mode=$2 db best="" t
    db=$(sed -n 's/^path = "\(.*\)"$/\1/p' "$config")
    for _ in 1 2 3; do
        if [[ $mode == cold ]]; then
            /usr/bin/python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM held_verdicts"); c.commit()' "$db"
        fi
        t=$( { time "$secdesk" --config "$config" held --json > /dev/null; } 2>&1 )
        best=$(awk -v a="$t" -v b="${best:-$t}" 'BEGIN { print (a < b ? a : b) }')
    done
    echo "$best"
}
echo "held_listed_and_spam $listed"
echo "secdesk_held_json_cold_best_s $(best_of_3 "$work/config.toml" cold)"
echo "secdesk_held_json_warm_best_s $(best_of_3 "$work/config.toml" warm)"

"$secdesk" --config "$work/replay.toml" held --json > "$work/replay.json"
cmp -s <(grep -v hold_date "$work/held.json") <(grep -v hold_date "$work/replay.json") \
    || echo "bench/held.sh: the replayed listing differs from the live one" >&2
echo "secdesk_share_replayed_cold_best_s $(best_of_3 "$work/replay.toml" cold)"
echo "secdesk_share_replayed_warm_best_s $(best_of_3 "$work/replay.toml" warm)"
