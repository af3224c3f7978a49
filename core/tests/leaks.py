"""DP-5's detector: full ID and phone numbers of the test World in a page, a header, a URL or
a log line. The permission matrix runs it on every GET answer it gets."""

import re

from django.http import HttpResponse

from registry.models import Child, EntrustedGuardian, Parent

ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}[01][0-9][0-3][0-9][0-9]{3}[0-9Xx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def world_secrets() -> set[str]:
    """Every full ID and phone number of the files in the database (children, parents,
    guardians)."""
    values: set[str] = set(Child.objects.values_list("id_number", flat=True))
    for model in (Parent, EntrustedGuardian):
        for number, phone in model.objects.values_list("id_number", "phone"):
            values |= {number, phone}
    values.discard("")
    return values


def leaks(text: str, secrets: set[str]) -> list[str]:
    """Secrets found in text, plus anything shaped like an ID or mobile number that is one."""
    found = [secret for secret in secrets if secret in text]
    found += [match for match in ID_NUMBER.findall(text) + MOBILE.findall(text) if match in secrets]
    return sorted(set(found))


def body_text(response: HttpResponse) -> str:
    """The whole body, streamed or not (a streamed body is consumed)."""
    streamed = response.streaming
    raw = b"".join(response.streaming_content) if streamed else response.content  # type: ignore[attr-defined]
    return raw.decode(errors="replace")
