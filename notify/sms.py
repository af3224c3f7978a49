"""Text messages: a small backend interface, chosen by settings.SHOUHU_SMS_BACKEND.

A real gateway (a provincial government SMS platform, a carrier's API) is a subclass of
BaseSmsBackend whose send() raises SmsError on any failure; notify.services records the
failure and the jobs app retries. The default LoggingSmsBackend sends nothing: it logs the
masked number and the length of the text, never the text itself.
"""

import logging
import threading
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

from core.masking import mask_phone

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """A text message could not be sent. `code` is the gateway's error code, if any: it goes
    into the delivery's last_error, so it must carry no personal data."""

    def __init__(self, message: str = "短信发送失败", *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class BaseSmsBackend:
    def send(self, phone: str, text: str) -> None:
        raise NotImplementedError


class LoggingSmsBackend(BaseSmsBackend):
    """The default: writes one log line per message (masked number, length), sends nothing."""

    def send(self, phone: str, text: str) -> None:
        logger.info("短信（未实际发送）：%s，%d 字", mask_phone(phone), len(text))


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str


class LocmemSmsBackend(BaseSmsBackend):
    """For tests: keeps every message in `outbox` (like Django's locmem mail backend)."""

    outbox: ClassVar[list[SmsMessage]] = []
    _lock = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        with self._lock:
            LocmemSmsBackend.outbox.append(SmsMessage(phone=phone, text=text))


def sms_backend() -> BaseSmsBackend:
    backend_class = import_string(settings.SHOUHU_SMS_BACKEND)
    backend: BaseSmsBackend = backend_class()
    return backend
