"""Fixtures of the notify tests: clean SMS outbox, and running what commits would run."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from accounts.models import User
from notify.models import Notification
from notify.services import notification_send
from notify.sms import LocmemSmsBackend, SmsMessage


@pytest.fixture(autouse=True)
def sms_outbox() -> Iterator[list[SmsMessage]]:
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def send(django_capture_on_commit_callbacks: Any) -> Callable[..., Notification]:
    """notification_send, then the on-commit work a real commit would start: the delivery
    jobs run at once (test settings use django-tasks' immediate backend), retries included."""

    def _send(recipient: User, **kwargs: Any) -> Notification:
        kwargs.setdefault("kind", "test")
        kwargs.setdefault("title", "本周有 2 名儿童待走访")
        kwargs.setdefault("body", "请在周五前完成走访。")
        with django_capture_on_commit_callbacks(execute=True):
            notification = notification_send(recipient=recipient, **kwargs)
        return notification

    return _send
