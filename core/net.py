"""The client's network address, for the login lockout (AU-3, AC-9) and the audit log (LG-2).

Behind a reverse proxy every request arrives from the proxy's address, so REMOTE_ADDR alone
would make one failed-login counter for the whole county and one address in every audit row.
X-Forwarded-For is believed only when REMOTE_ADDR is one of SHOUHU_TRUSTED_PROXIES, and then
only up to the first address, read from the right, that is not a trusted proxy: each proxy
appends the address it received the request from, so everything left of that is whatever the
client chose to send (spoofable) and is ignored.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())
    except ValueError as error:
        raise ImproperlyConfigured(f"SHOUHU_TRUSTED_PROXIES 中有无效的地址或网段：{error}") from error


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or, from a trusted proxy, the nearest untrusted X-Forwarded-For address."""
    remote = request.META.get("REMOTE_ADDR") or None
    networks = _networks(tuple(settings.SHOUHU_TRUSTED_PROXIES))
    peer = _address(remote or "")
    if peer is None or not networks or not _trusted(peer, networks):
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return remote  # a malformed header: believe nothing in it
        if not _trusted(address, networks):
            return str(address)
    return remote
