"""A real SMTP server (aiosmtpd) for tests: it records what it accepts and fails on request."""

import asyncio
import email
import socket
import threading
from email import policy

from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Accept mail and keep it; refuse recipients (550), fail DATA (451) or stall when told."""

    def __init__(self):
        self.refuse = set()
        self.fail_data = False
        self.delay = 0.0
        self.stall_rcpt = threading.Event()  # set: RCPT waits until it is cleared
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        while self.stall_rcpt.is_set():
            await asyncio.sleep(0.05)
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_data:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def subjects(self):
        return [message["Subject"] for _, message in self.received]


class SMTPServer:
    """An aiosmtpd server on ``port`` that can be stopped and started again on the same port."""

    def __init__(self, port=None, handler=None):
        self.port = port or free_port()
        self.handler = handler or RecordingHandler()
        self.controller = None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def smtp_settings(port, timeout=5):
    """Return the settings that make the worker deliver over SMTP to 127.0.0.1:``port``."""
    return {
        "EMAIL_DELIVERY_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": timeout,
    }
