"""Locust scenario for the load and soak test (issue 3, RE-8). Run through bench/soak.py,
which prepares the database, the accounts and gunicorn; see bench/README.md.

Each simulated user is one account (privileged roles keep one session, so accounts are not
shared). It signs in with its password and a TOTP code, then works like a person at a desk:
the ledger, a filtered page, a search, a file, an edit of that file (village workers) and API
reads, with a think time between actions. The account list comes from SOAK_ACCOUNTS (a JSON
file written by soak.py): username, password, TOTP key (hex), role, and a few search terms.
"""

import json
import os
import random
import re
import threading
import time
from html.parser import HTMLParser
from typing import Any

from locust import HttpUser, between, task
from locust.exception import StopUser

with open(os.environ["SOAK_ACCOUNTS"], encoding="utf-8") as _handle:
    ACCOUNTS: list[dict[str, Any]] = json.load(_handle)
_next = 0
_lock = threading.Lock()
CHILD_LINK = re.compile(r'href="/children/([0-9a-f-]{36})/"')
THINK_MIN = float(os.environ.get("SOAK_THINK_MIN", "2"))
THINK_MAX = float(os.environ.get("SOAK_THINK_MAX", "8"))


def _account() -> dict[str, Any]:
    global _next
    with _lock:
        account = ACCOUNTS[_next % len(ACCOUNTS)]
        _next += 1
    return account


def totp(key_hex: str, at: float | None = None) -> str:
    """RFC 6238 with django-otp's defaults (SHA-1, 30 s, 6 digits)."""
    import hashlib
    import hmac
    import struct

    counter = int((at if at is not None else time.time()) // 30)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


class FormReader(HTMLParser):
    """The fields a browser would send for each <form method=post> on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self.inside = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    @property
    def fields(self) -> list[tuple[str, str]]:
        return self.forms[-1]

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {name: value or "" for name, value in attrs_list}
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self.inside = True
            self.forms.append([])
        if not self.inside:
            return
        name = attrs.get("name", "")
        if tag == "input" and name and "disabled" not in attrs:
            kind = attrs.get("type", "text").lower()
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
            elif kind not in {"submit", "button", "file", "reset"}:
                self.fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self._select_value = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._first_option
            self.fields.append((self._select, value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "form":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def form_fields(html: str) -> list[tuple[str, str]]:
    """The fields of the page's largest post form (the edit form, not the logout button)."""
    reader = FormReader()
    reader.feed(html)
    return max(reader.forms, key=len, default=[])


def csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else ""


class Worker(HttpUser):
    wait_time = between(THINK_MIN, THINK_MAX)

    def on_start(self) -> None:
        self.account = _account()
        self.children: list[str] = []
        self.sign_in()

    def sign_in(self) -> None:
        page = self.client.get("/accounts/login/", name="登录页")
        response = self.client.post(
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": csrf(page.text),
                "username": self.account["username"],
                "password": self.account["password"],
            },
            name="登录：密码",
        )
        if "/accounts/otp/" in response.url:
            # A code is single-use (AU-4): wait for a fresh time step if this one was spent.
            with self.client.post(
                "/accounts/otp/",
                {"csrfmiddlewaretoken": csrf(response.text), "token": totp(self.account["totp_key"])},
                name="登录：动态验证码",
                catch_response=True,
            ) as answer:
                if "/accounts/otp/" in answer.url:
                    answer.failure("TOTP code refused")
                    raise StopUser()
        if "/accounts/login/" in response.url:
            raise StopUser()

    def _remember(self, html: str) -> None:
        found = CHILD_LINK.findall(html)
        if found:
            self.children = found[:20]

    @task(4)
    def ledger(self) -> None:
        response = self.client.get("/children/", name="台账首页")
        self._remember(response.text)

    @task(2)
    def ledger_filtered(self) -> None:
        params = random.choice(
            [{"key": "1"}, {"care_type": "grandparents"}, {"age_band": "6-13", "rating": "good"}]
        )
        response = self.client.get("/children/", params=params, name="台账筛选")
        self._remember(response.text)

    @task(2)
    def search(self) -> None:
        page = self.client.get("/children/", name="台账首页")
        response = self.client.post(
            "/children/",
            {"csrfmiddlewaretoken": csrf(page.text), "q": random.choice(self.account["terms"])},
            name="台账搜索",
        )
        self._remember(response.text)

    @task(4)
    def open_file(self) -> None:
        if not self.children:
            return self.ledger()
        self.client.get(f"/children/{random.choice(self.children)}/", name="儿童档案")

    @task(1)
    def edit_file(self) -> None:
        if not self.account["edits"] or not self.children:
            return
        child = random.choice(self.children)
        page = self.client.get(f"/children/{child}/edit/", name="档案编辑页")
        if page.status_code != 200:
            return
        fields = [(k, v) for k, v in form_fields(page.text) if k]
        fields = [
            (k, f"廉州镇压测路{random.randint(1, 999)}号") if k == "current_address" else (k, v)
            for k, v in fields
        ]
        with self.client.post(
            f"/children/{child}/edit/", fields, name="档案保存", catch_response=True, allow_redirects=False
        ) as answer:
            # 302 saved; 409 another user saved first (the stale-edit refusal working as built)
            if answer.status_code in (302, 409):
                answer.success()
            elif answer.status_code == 200:
                errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', answer.text, re.S)
                answer.failure(
                    f"edit form redisplayed with errors: {re.sub(r'<[^>]+>', ' ', ' '.join(errors))[:200]}"
                )

    @task(2)
    def api_list(self) -> None:
        response = self.client.get("/api/children/", name="API 儿童列表")
        if response.status_code == 200:
            ids = [row["id"] for row in response.json().get("results", [])]
            if ids:
                self.client.get(f"/api/children/{random.choice(ids)}/", name="API 儿童详情")
