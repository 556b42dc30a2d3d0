"""The one mail a notice is, and sending it through the service's SMTP server.

The mail says only that there is something new and where to sign in: the sender name and
subject are the service's neutral words (PORTAL_SMTP_SENDER_NAME, PORTAL_SMTP_SUBJECT), and no
name, reference, event or content is ever put in it, since a mailbox may be read by others.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from portal.settings import SmtpSettings

NEUTRAL_BODY = (
    "Hello,\n\n"
    "There is something new for you. Please sign in to see it:\n\n"
    "{sign_in}\n\n"
    "You get this message because you asked for it. You can change or stop it at any time "
    "after signing in, under Your account.\n"
)
TEST_BODY = (
    "Hello,\n\n"
    "This is the test message you asked for: messages like it will reach you here.\n\n"
    "{sign_in}\n"
)


class MailNotSent(Exception):
    """The server could not be reached or refused the mail. Carries the kind of failure only:
    smtplib's own errors may quote the address, which must never reach a log."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(kind)


def sign_in_url(smtp: SmtpSettings) -> str:
    return f"{smtp.public_url}/sign-in"


def notice_mail(smtp: SmtpSettings, to: str, *, test: bool, now: datetime) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((smtp.sender_name, smtp.sender))
    mail["To"] = to
    mail["Subject"] = smtp.subject
    mail["Date"] = format_datetime(now)
    # The domain of the sender address, not this machine's name.
    mail["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2])
    # Mail servers and autoresponders should not answer a notice.
    mail["Auto-Submitted"] = "auto-generated"
    body = TEST_BODY if test else NEUTRAL_BODY
    mail.set_content(body.format(sign_in=sign_in_url(smtp)))
    return mail


def send(smtp: SmtpSettings, mail: EmailMessage) -> None:
    """Hand ``mail`` to the server, or raise MailNotSent naming only the kind of failure."""
    try:
        client: smtplib.SMTP
        if smtp.tls == "tls":
            client = smtplib.SMTP_SSL(
                smtp.host,
                smtp.port,
                timeout=smtp.timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
        with client:
            if smtp.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username is not None and smtp.password is not None:
                client.login(smtp.username, smtp.password.reveal().decode())
            client.send_message(mail)
    except (smtplib.SMTPException, OSError) as failure:
        raise MailNotSent(type(failure).__name__) from None
