"""aiosmtpd checking AUTH XOAUTH2 and AUTH OAUTHBEARER tokens, for the OAuth2 tests
(tests/oauth.rs).

Real aiosmtpd (its SMTP state machine, its Mailbox handler) with `auth_XOAUTH2` and
`auth_OAUTHBEARER` (RFC 7628) hooks that validate the bearer token as Dovecot's oauth2 passdb does in the IMAP tests: an HS256 JWT
signed with the key in KEYFILE, not expired, whose `sub` is the user named. Every attempt
is logged to LOGFILE as `ok USER` or `refused REASON`.

Usage: aiosmtpd_oauth2.py PORT MAILDIR KEYFILE LOGFILE
"""
import base64
import hashlib
import hmac
import json
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class OAuthMailbox(Mailbox):
    def __init__(self, maildir, key, log):
        super().__init__(maildir)
        self.key = key
        self.log = log

    def note(self, line):
        with open(self.log, "a") as f:
            f.write(line + "\n")

    def check(self, user, auth):
        if not auth.startswith("Bearer "):
            return "no bearer token"
        parts = auth[len("Bearer "):].split(".")
        if len(parts) != 3:
            return "not a JWT"
        mac = hmac.new(self.key, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(mac, b64url(parts[2])):
            return "bad signature"
        claims = json.loads(b64url(parts[1]))
        if claims.get("exp", 0) <= time.time():
            return "expired"
        if claims.get("sub") != user:
            return "token is for another user"
        return None

    async def initial(self, server, args):
        if len(args) > 1:
            return base64.b64decode(args[1]).decode()
        raw = await server.challenge_auth("")
        return raw.decode() if isinstance(raw, bytes) else ""

    def verdict(self, why):
        self.note(("refused " + why) if why else "ok")
        return AuthResult(success=not why, handled=False if why else True)

    async def auth_XOAUTH2(self, server, args):
        response = await self.initial(server, args)
        fields = dict(f.split("=", 1) for f in response.split("\x01") if "=" in f)
        why = self.check(fields.get("user", ""), fields.get("auth", ""))
        if why:
            # As Gmail does (developers.google.com/gmail/imap/xoauth2-protocol): the error is
            # a 334 challenge with a JSON status; the client sends an empty response, then the
            # server fails the exchange.
            status = json.dumps({"status": "401", "schemes": "Bearer"})
            answer = await server.challenge_auth(status)
            if answer != b"":
                why += " (and the client did not answer the error challenge with an empty line)"
        return self.verdict(why)

    async def auth_OAUTHBEARER(self, server, args):
        # RFC 7628 §3.1: gs2-header "n,a=USER," then ^A-separated key=value pairs.
        response = await self.initial(server, args)
        gs2, _, rest = response.partition("\x01")
        head = gs2.split(",")
        user = next((h[2:] for h in head if h.startswith("a=")), "")
        user = user.replace("=2C", ",").replace("=3D", "=")
        fields = dict(f.split("=", 1) for f in rest.split("\x01") if "=" in f)
        if head[0] != "n" or "host" not in fields or "port" not in fields:
            return self.verdict("malformed OAUTHBEARER response")
        why = self.check(user, fields.get("auth", ""))
        if why:
            # §3.2.2: the error is a 334 challenge with a JSON status; the client answers
            # with a single ^A, then the server fails the exchange.
            status = json.dumps({"status": "invalid_token", "schemes": "bearer"})
            answer = await server.challenge_auth(status)
            if answer != b"\x01":
                why += " (and the client did not answer the error challenge with ^A)"
        return self.verdict(why)


def main():
    port, maildir, keyfile, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    with open(keyfile, "rb") as f:
        key = f.read()
    controller = Controller(
        OAuthMailbox(maildir, key, log),
        hostname="127.0.0.1",
        port=port,
        auth_require_tls=False,
    )
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
