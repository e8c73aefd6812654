"""Sending the sign-in e-mail over SMTP; in development without SMTP, printing the link instead."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from config import Settings

log = logging.getLogger(__name__)


class MailUnavailable(RuntimeError):
    """The mail could not be handed to the SMTP server. The message is safe to show."""


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    def send(self, to: str, subject: str, text: str, *, console_line: str) -> None:
        """Send `text` to `to`. Without SMTP, development prints `console_line` (the link) instead."""
        if not self.configured:
            if self.settings.environment != "development":
                raise MailUnavailable("E-mail sign-in is not set up on this server.")
            print(f"\n[{self.settings.brand_name}] no SMTP_HOST set; {console_line}\n", flush=True)
            return
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=self.settings.smtp_from.rpartition("@")[2].strip("> ") or None)
        message.set_content(text)
        try:
            self._deliver(message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("SMTP delivery failed: %s", type(exc).__name__)
            raise MailUnavailable("We could not send the e-mail just now. Please try again in a few minutes.") from exc

    def _deliver(self, message: EmailMessage) -> None:
        s = self.settings
        timeout = 15
        if s.smtp_tls == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
        with server:
            if s.smtp_tls == "starttls":
                server.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                server.login(s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password else "")
            server.send_message(message)
