"""aiosmtpd with a scripted refusal, for the SMTP fault tests (tests/reply/faults.rs).

Real aiosmtpd (its SMTP state machine, its Mailbox handler), started from Python because
its command line cannot set these two behaviours:

  --data-reply "451 4.3.0 ..."  answer every message with this reply instead of storing it
  --refuse-auth                 offer AUTH PLAIN/LOGIN in plaintext and refuse every login

Usage: aiosmtpd_faults.py PORT MAILDIR [--data-reply TEXT] [--refuse-auth]
"""
import argparse
import signal
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult


class Refusing(Mailbox):
    def __init__(self, maildir, data_reply):
        super().__init__(maildir)
        self.data_reply = data_reply

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        return await super().handle_DATA(server, session, envelope)


def refuse(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=False, handled=False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("maildir")
    p.add_argument("--data-reply")
    p.add_argument("--refuse-auth", action="store_true")
    a = p.parse_args()
    params = {}
    if a.refuse_auth:
        params = dict(auth_require_tls=False, authenticator=refuse)
    controller = Controller(
        Refusing(a.maildir, a.data_reply),
        hostname="127.0.0.1",
        port=a.port,
        **params,
    )
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
