"""A real SMTP server for the tests: aiosmtpd's controller on a free port of 127.0.0.1.

The portal sends to it with smtplib exactly as to a real mail server; every mail it accepts
is kept, as bytes, in :attr:`SmtpServer.received`. :meth:`stop` and :meth:`start` make an
outage (the port then refuses connections) and the recovery after it, on the same port.
"""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.ports import free_port

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Keeper:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802  (aiosmtpd's name)
        content = envelope.original_content or b""
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(content))
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port(HOST)
        self._keeper = _Keeper()
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        with self._keeper.lock:
            return list(self._keeper.received)

    def start(self) -> None:
        controller = Controller(self._keeper, hostname=HOST, port=self.port)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def env(self, **more: str) -> dict[str, str]:
        """The PORTAL_* variables that send the portal's notices here (no TLS: loopback)."""
        return {
            "PORTAL_SMTP_HOST": HOST,
            "PORTAL_SMTP_PORT": str(self.port),
            "PORTAL_SMTP_TLS": "none",
            "PORTAL_SMTP_SENDER": "notices@service.example",
            **more,
        }

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
