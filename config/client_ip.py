"""The client's IP address, as the OTP per-IP caps record it.

DRF's throttles identify a client by ``BaseThrottle.get_ident``: ``REMOTE_ADDR``, or the address
``NUM_PROXIES`` deep in ``X-Forwarded-For``. That value is not checked: a proxy may forward
``203.0.113.9:51234`` or ``[2001:db8::1]:443``, and a client may put anything in the header when
no proxy rewrites it. Stored as is in a ``GenericIPAddressField`` it fails validation (a 500), so
:func:`client_ip` reads the same value, strips a port, and falls back to ``REMOTE_ADDR`` when it is
not an IP address.
"""

from __future__ import annotations

import ipaddress
import re

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

# "a.b.c.d:port" and "[v6]" / "[v6]:port"; a bare IPv6 address also has colons, so only these
# two shapes lose their port.
_IPV4_WITH_PORT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$")
_BRACKETED_IPV6 = re.compile(r"^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$")


def _parse(value: str | None) -> str | None:
    """The IP address in ``value`` (port stripped, canonical form), or None."""
    text = (value or "").strip()
    if match := _IPV4_WITH_PORT.match(text) or _BRACKETED_IPV6.match(text):
        text = match.group(1)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:  # "fe80::1%eth0": not a client address, and not storable
            return None
        if address.ipv4_mapped:  # a dual-stack socket's "::ffff:a.b.c.d" is that IPv4 client
            return str(address.ipv4_mapped)
    return str(address)


def client_ip(request: HttpRequest | Request) -> str | None:
    """The client's IP address as DRF's throttles identify it, validated; else REMOTE_ADDR if that
    is valid; else None (e.g. gunicorn on a Unix socket without a proxy header)."""
    return _parse(BaseThrottle().get_ident(request)) or _parse(request.META.get("REMOTE_ADDR"))
