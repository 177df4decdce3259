"""aiosmtpd with a scripted refusal, for the SMTP fault tests (tests/reply/faults.rs).

Real aiosmtpd (its SMTP state machine, its Mailbox handler), started from Python because
its command line cannot set these two behaviours:

  --data-reply "451 4.3.0 ..."  answer every message with this reply instead of storing it
  --refuse-auth                 offer AUTH PLAIN/LOGIN in plaintext and refuse every login
  --rcpt-delay SECONDS          answer each RCPT only after SECONDS (a slow server)
  --answer-delay SECONDS        store each message, then answer its DATA only after SECONDS
  --refuse-rcpt ADDRESS         answer RCPT TO:<ADDRESS> with 550 5.1.1

Usage: aiosmtpd_faults.py PORT MAILDIR [--data-reply TEXT] [--refuse-auth]
                          [--rcpt-delay S] [--answer-delay S]
"""
import argparse
import asyncio
import signal
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult


class Refusing(Mailbox):
    def __init__(self, maildir, data_reply, rcpt_delay=0.0, answer_delay=0.0, refuse_rcpt=None):
        super().__init__(maildir)
        self.refuse_rcpt = refuse_rcpt
        self.data_reply = data_reply
        self.rcpt_delay = rcpt_delay
        self.answer_delay = answer_delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.rcpt_delay)
        if self.refuse_rcpt and address.lower() == self.refuse_rcpt.lower():
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.answer_delay)
        return answer


def refuse(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=False, handled=False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("maildir")
    p.add_argument("--data-reply")
    p.add_argument("--refuse-auth", action="store_true")
    p.add_argument("--rcpt-delay", type=float, default=0.0)
    p.add_argument("--answer-delay", type=float, default=0.0)
    p.add_argument("--refuse-rcpt")
    a = p.parse_args()
    params = {}
    if a.refuse_auth:
        params = dict(auth_require_tls=False, authenticator=refuse)
    controller = Controller(
        Refusing(a.maildir, a.data_reply, a.rcpt_delay, a.answer_delay, a.refuse_rcpt),
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
