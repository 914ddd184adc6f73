"""Where a webhook may point: public internet addresses only, unless the clinic allows private ones.

A webhook target is an address the service will POST to on its own, so an unchecked target lets
anyone who may add one make the service call its own database port, a cloud metadata endpoint or
a printer on the clinic's network (server-side request forgery). Loopback, private, link-local,
shared (carrier-grade NAT), multicast, reserved and unspecified addresses are refused unless
``REHAB_WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` is set (for a clinic's internal pager). A host name is
resolved and every address it resolves to must pass; the check runs when the target is added and
again before every delivery, because DNS answers can change in between.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

__all__ = ["WebhookAddressRefused", "check_webhook_address"]

# Tunable default: a name that takes longer than this to resolve is treated as unresolvable.
_RESOLVE_TIMEOUT_S = 5.0

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookAddressRefused(ValueError):
    """The webhook URL's host is not a public internet address (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _public(ip: IpAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global is False for loopback, private (RFC 1918, fc00::/7), link-local, shared address
    # space (RFC 6598) and the other special-purpose blocks of the IANA registries.
    return ip.is_global and not ip.is_multicast


async def check_webhook_address(url: str, *, allow_private: bool) -> None:
    """Raise :class:`WebhookAddressRefused` unless ``url``'s host is a public address.

    With ``allow_private`` every resolvable host passes (the URL still needs a host).
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise WebhookAddressRefused("the webhook URL has no host")
    if allow_private:
        return
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not _public(literal):
            raise WebhookAddressRefused(
                f"{host} is not a public internet address (loopback, private and link-local"
                " addresses need REHAB_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true)"
            )
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookAddressRefused("the webhook URL has an invalid port") from None
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=_RESOLVE_TIMEOUT_S
        )
    except (OSError, TimeoutError):
        raise WebhookAddressRefused(f"the host {host} does not resolve") from None
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not _public(ip):
            raise WebhookAddressRefused(
                f"{host} resolves to {ip}, which is not a public internet address (private"
                " addresses need REHAB_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true)"
            )
