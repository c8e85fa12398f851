"""Which addresses a call whose URL a user can influence may reach (a provider's base URL now).

A URL is allowed when its scheme is `https` (or `http`, where the operator allows it) and every
address its host resolves to is global: not loopback, private, link-local (the cloud metadata
service at 169.254.169.254), unique-local, multicast, unspecified, shared or reserved — in any
spelling (`2130706433`, `0x7f.1`, `::ffff:127.0.0.1`: the resolver reads them all, and its
answers are what is checked). The operator's allowlist (`OUTBOUND_ALLOWED_NETWORKS`) admits
internal model servers (an Ollama or vLLM on a private network) by network.

The check happens when a URL is saved and again at every connection (the generation service's
`guarded_transport` resolves the host, checks the addresses and connects to a checked one), so
a name that resolves to a public address at save time and to 127.0.0.1 later (DNS rebinding) is
still refused, as is a redirect to a refused address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(ValueError):
    """The URL may not be called; the message says why in words a user can act on, and never
    whether anything listens at the address."""


class OutboundPolicy:
    def __init__(self, allowed_networks: Iterable[str] = (), allow_http: bool = False) -> None:
        self.allowed: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n.strip(), strict=False) for n in allowed_networks if n.strip()
        )
        self.allow_http = allow_http

    def check_scheme(self, url: str) -> tuple[str, int]:
        """The URL's host and port, if its scheme may be used."""
        parts = urlsplit(url)
        schemes = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in schemes:
            raise OutboundRefused(f"the URL must use {' or '.join(schemes)}")
        if not parts.hostname:
            raise OutboundRefused("the URL names no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise OutboundRefused("the URL's port is not a number from 0 to 65535") from None
        return parts.hostname, port

    def allows(self, address: str) -> bool:
        ip: Address = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self.allowed):
            return True
        return ip.is_global and not ip.is_multicast

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to, all of which must be allowed."""
        loop = asyncio.get_running_loop()
        try:
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise OutboundRefused(f"the host {host!r} does not resolve") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        refused = [a for a in addresses if not self.allows(a)]
        if refused or not addresses:
            raise OutboundRefused(
                f"the host {host!r} resolves to an address that is not public (loopback, "
                "private, link-local or reserved); an operator can allow internal model "
                "servers with OUTBOUND_ALLOWED_NETWORKS"
            )
        return addresses

    async def check_url(self, url: str) -> None:
        host, port = self.check_scheme(url)
        await self.resolve(host, port)


def networks_setting(value: str | Sequence[str]) -> list[str]:
    """`OUTBOUND_ALLOWED_NETWORKS` as written: comma-separated CIDRs (or a list)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    for item in items:
        if item.strip():
            ipaddress.ip_network(item.strip(), strict=False)  # a typo fails at start
    return [item.strip() for item in items if item.strip()]
