"""Where fetching may go: one policy for every request, every redirect hop and every connect.

The URLs yuqing fetches come from operators, imported files and strangers' pages
(a feed may answer ``302 Location: http://169.254.169.254/…``), so each request is
checked three times:

1. :meth:`FetchPolicy.check_url` on the URL as written (``sources add`` and every hop):
   only ``http``/``https`` with a host; an address literal or a cloud-metadata name that
   is always refused is refused before anything is sent.
2. :meth:`FetchPolicy.check_redirect` on each redirect: no change of scheme except the
   upgrade http → https, the target passes (1), and a redirect never leads to a loopback
   address other than the origin (scheme, host, port) the fetch started from, so a feed
   cannot send us to another service on our own machine.
3. :class:`VettingBackend` at connect time, after DNS: every address the name resolves
   to must be allowed, and the connection goes to exactly the address that was checked
   (no second lookup for a rebinding DNS server to answer differently).

Always refused: link-local (169.254.0.0/16, fe80::/10, where the cloud metadata services
live), unspecified, multicast, reserved and broadcast addresses, and the metadata names
and addresses below. Loopback and private ranges are allowed by default (government
intranet sites live there); each can be switched off (``YUQING_FETCH_ALLOW_LOOPBACK``,
``YUQING_FETCH_ALLOW_PRIVATE``).
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import socket
import typing
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import anyio.abc
import httpcore
import httpx
from httpcore._backends.anyio import AnyIOStream  # httpcore's wrapper of an anyio stream (not re-exported)

from monitor.errors import RefusedURL
from monitor.urls import redact_url

ALLOWED_SCHEMES = frozenset({"http", "https"})
# Cloud instance-metadata endpoints by name and by address (Aliyun's is outside link-local).
METADATA_NAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    "metadata.tencentyun.com", "metadata.azure.com",
})
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in ("100.100.100.200", "fd00:ec2::254"))

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Origin = tuple[str, int]

# Set while a redirect is followed: the origin the fetch started from (read at connect time).
redirected_from: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("redirected_from", default=None)


def origin_of(url: str) -> Origin:
    """(host, port) of *url*, the port defaulted by scheme."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    return (parts.hostname or "").rstrip(".").lower(), port


def _is_loopback_name(host: str) -> bool:
    address = _literal_address(host)
    return host == "localhost" or host.endswith(".localhost") or (address is not None and address.is_loopback)


def _literal_address(host: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class FetchPolicy:
    """Which schemes and addresses a fetch may reach; frozen, so one policy serves every request."""

    allow_loopback: bool = True
    allow_private: bool = True

    def address_problem(self, address: IPAddress) -> str | None:
        """Why *address* may not be connected to, or None when it may."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address in METADATA_ADDRESSES:
            return f"{address} is a cloud metadata address"
        if address.is_link_local:
            return f"{address} is link-local (where cloud metadata services live)"
        if address.is_unspecified or address.is_multicast:
            return f"{address} is not a host address (unspecified or multicast)"
        if address.is_loopback:  # before reserved: ::1 lies in the reserved ::/8
            return None if self.allow_loopback else f"{address} is loopback (YUQING_FETCH_ALLOW_LOOPBACK=false)"
        if address.is_reserved:
            return f"{address} is not a host address (reserved or broadcast)"
        if not address.is_global:
            return None if self.allow_private else f"{address} is private (YUQING_FETCH_ALLOW_PRIVATE=false)"
        return None

    def check_url(self, url: str) -> SplitResult:
        """Refuse *url* when it can never be fetched under this policy; returns its parts."""
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018  (raises on a bad port)
        except ValueError as exc:
            raise RefusedURL(f"not a usable URL: {exc}", url=redact_url(url)) from None
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            shown = f"{scheme}:" if scheme else "no scheme"
            raise RefusedURL(f"only http and https URLs are fetched, not {shown}", url=redact_url(url))
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise RefusedURL("the URL has no host", url=redact_url(url))
        if host in METADATA_NAMES:
            raise RefusedURL(f"{host} is a cloud metadata service", url=redact_url(url))
        address = _literal_address(host)
        if address is not None:
            problem = self.address_problem(address)
            if problem:
                raise RefusedURL(f"refused address: {problem}", url=redact_url(url))
        return parts

    def check_redirect(self, start_url: str, from_url: str, to_url: str) -> None:
        """A redirect may upgrade http to https but not change scheme otherwise, nor go where a URL may
        not, nor lead to a loopback origin other than the one the fetch started from."""
        before = urlsplit(from_url).scheme.lower()
        after = urlsplit(to_url).scheme.lower()
        if after != before and not (before == "http" and after == "https"):
            raise RefusedURL(f"redirect from {before}: to {after or 'no scheme'}: refused", url=redact_url(to_url))
        self.check_url(to_url)
        target = origin_of(to_url)
        if _is_loopback_name(target[0]) and target != origin_of(start_url):
            raise RefusedURL("redirect to another service on this machine refused", url=redact_url(to_url))


NEVER = FetchPolicy(allow_loopback=True, allow_private=True)
"""The policy with every switch on: what it refuses can never be fetched (``sources add`` uses it)."""


class VettingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the policy applied after DNS, at connect time."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def _resolve(self, host: str, port: int) -> list[str]:
        literal = _literal_address(host)
        if literal is not None:
            return [str(literal)]
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):  # the connect timeout bounds the DNS look-up too
                addresses = await self._resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"DNS look-up of {host} timed out") from None
        start = redirected_from.get()
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            problem = self.policy.address_problem(ip)
            if problem:
                raise RefusedURL(f"{host} resolves to a refused address: {problem}")
            if start is not None and ip.is_loopback and (host.rstrip(".").lower(), port) != start:
                raise RefusedURL(f"redirect to {host}, which is this machine ({ip}), refused")
        last: Exception | None = None
        for address in addresses:  # connect to exactly what was checked
            try:
                return await _connect(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedURL("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _connect(address: str, port: int, timeout: float | None, local_address: str | None,
                   socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None) -> httpcore.AsyncNetworkStream:
    """One TCP connection to one address already vetted, as httpcore's anyio stream.

    httpcore's own backend goes through ``anyio.connect_tcp``, which starts a task group to race
    addresses (happy eyeballs) even for a single literal address: a third of the cost of a request
    answered 304 on a new connection. The addresses are raced here already, one after another.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for option in socket_options or ():
            sock.setsockopt(*option)
        if local_address:
            sock.bind((local_address, 0))
        async with asyncio.timeout(timeout):
            await asyncio.get_running_loop().sock_connect(sock, (address, port))
        stream = await anyio.abc.SocketStream.from_socket(sock)
    except TimeoutError:
        sock.close()
        raise httpcore.ConnectTimeout(f"connecting to {address}:{port} timed out") from None
    except OSError as exc:
        sock.close()
        raise httpcore.ConnectError(f"cannot connect to {address}:{port}: {exc.strerror or exc}") from None
    except BaseException:
        sock.close()
        raise
    return AnyIOStream(stream)


class PolicyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport whose connection pool connects through :class:`VettingBackend`."""

    def __init__(self, policy: FetchPolicy, **kwargs: typing.Any) -> None:
        super().__init__(**kwargs)
        # httpx does not expose the network backend; build its pool the way it does, with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=VettingBackend(policy),
            max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0,
        )
