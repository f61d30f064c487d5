"""Where connectors may send requests: public https addresses, unless the operator allows more.

A connector's base URL comes from a tenant admin, and a sync sends the connector's credentials to
it, so an unchecked URL lets a tenant make the server call anything it can reach (the loopback
interface, the cloud metadata address, the private network). The policy, from the settings:

- production: ``https`` only; every address the host is or resolves to must be public;
- development: ``http`` allowed, and loopback addresses too (the fake shops of the tests and a shop
  on the developer's machine); every other non-public address is refused as in production;
- ``CRM_GRAPH_ALLOW_PRIVATE_CONNECTOR_URLS``: loopback and private addresses (10/8, 172.16/12,
  192.168/16, 100.64/10, fc00::/7) allowed; link-local (the metadata address 169.254.169.254),
  unspecified, multicast and reserved addresses stay refused;
- ``CRM_GRAPH_CONNECTOR_ALLOWED_HOSTS``: host names allowed whatever they resolve to, and IP
  addresses or networks (CIDR) allowed even when not public.

An address is checked after unwrapping the IPv4 address that IPv4-mapped, IPv4-compatible, 6to4 and
NAT64 IPv6 addresses carry, and the legacy spellings of IPv4 (``2130706433``, ``0x7f.1``, ``0177.0.0.1``)
are read as the address they denote. The check runs twice: `check_url` when the settings are saved
(a clear error naming the field), and `EgressTransport` on every connection, since DNS can change
after registration: it resolves the host once, checks every address, and connects to the checked
address (TLS still verifies the certificate against the host name).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, well-known and local-use).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
#: What `CRM_GRAPH_ALLOW_PRIVATE_CONNECTOR_URLS` lets through.
_PRIVATE_KINDS = frozenset({"loopback", "private"})


class EgressRefused(Exception):
    """A connector URL or address that the policy refuses; the message names what is wrong, not a secret."""


@dataclass(frozen=True)
class EgressPolicy:
    """What connector requests may reach; build it with `from_settings`."""

    require_https: bool = True
    allowed_kinds: frozenset[str] = frozenset()
    allowed_names: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()
    #: Whether a host name that does not resolve is refused when the settings are saved (production).
    require_resolution: bool = True
    resolve: Callable[[str, int], list[IPAddress]] = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    @classmethod
    def from_settings(cls, settings) -> EgressPolicy:
        """The policy of `settings` (production switch and the two connector settings)."""
        kinds = set(_PRIVATE_KINDS if settings.allow_private_connector_urls else ())
        if not settings.production:
            kinds.add("loopback")
        names, networks = parse_allowed_hosts(settings.connector_allowed_hosts)
        return cls(require_https=settings.production, allowed_kinds=frozenset(kinds), allowed_names=names,
                   allowed_networks=networks, require_resolution=settings.production)

    def resolver(self) -> Callable[[str, int], list[IPAddress]]:
        """How host names are resolved (the system resolver unless a test gave another)."""
        return self.resolve or resolve

    def address_problem(self, address: IPAddress) -> str | None:
        """Why `address` may not be reached ("loopback", "private"...), or None when it may."""
        if any(address in network for network in self.allowed_networks if network.version == address.version):
            return None
        kind = address_kind(address)
        return None if kind is None or kind in self.allowed_kinds else kind

    def name_allowed(self, host: str) -> bool:
        """Whether the operator allowed this host name whatever it resolves to."""
        return _normal_name(host) in self.allowed_names


def parse_allowed_hosts(value: str) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """(host names, networks) of ``CRM_GRAPH_CONNECTOR_ALLOWED_HOSTS`` (comma-separated)."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in (part.strip() for part in (value or "").split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(_normal_name(entry))
    return frozenset(names), tuple(networks)


def _normal_name(host: str) -> str:
    return host.strip().rstrip(".").lower()


def address_kind(address: IPAddress) -> str | None:
    """The kind of a non-public address, or None for a public one.

    IPv6 addresses that embed an IPv4 address are judged by that address too.
    """
    if address.version == 6:
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_kind(embedded)
            if inner is not None:
                return inner
        if address.teredo is not None:
            return "reserved"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.version == 4 and address in ipaddress.ip_network("100.64.0.0/10"):
        return "private"  # shared address space (carrier-grade NAT)
    if address.version == 6 and (address.is_site_local or address in ipaddress.ip_network("fc00::/7")):
        return "private"
    if address.is_private:
        return "private" if not address.is_reserved else "reserved"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = address.packed
    if packed[:12] == bytes(12) and int(address) > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(packed[12:])
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(packed[12:])
    return None


def literal_address(host: str) -> IPAddress | None:
    """The IP address `host` spells, including the legacy IPv4 forms the C resolver accepts
    (``2130706433``, ``0x7f.0.0.1``, ``0177.1``); None for a host name."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    parts = text.rstrip(".").split(".") if text else []
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part[1:], 8))
            else:
                numbers.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return None
    if any(n < 0 for n in numbers):
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    return ipaddress.IPv4Address(value * 256 ** (4 - len(head)) + last)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for `host` (raises `socket.gaierror` when none)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


def checked_addresses(host: str, port: int, policy: EgressPolicy) -> list[IPAddress]:
    """The addresses of `host`, all allowed by `policy`; `EgressRefused` when any is not.

    Raises `socket.gaierror` when the name does not resolve.
    """
    addresses = policy.resolver()(host, port)
    if not addresses:
        raise socket.gaierror(f"{host} has no address")
    for address in addresses:
        problem = policy.address_problem(address)
        if problem is not None:
            raise EgressRefused(f"{host} is or resolves to a {problem} address")
    return addresses


def check_url(url: str, policy: EgressPolicy) -> None:
    """Refuse a connector base URL that `policy` does not allow (when the settings are saved).

    The message says what to change; it does not say which address a name resolved to.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise EgressRefused(f"is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise EgressRefused("must be an https:// address")
    if policy.require_https and parsed.scheme != "https":
        raise EgressRefused("must start with https:// (plain http is refused in production)")
    if parsed.userinfo:
        raise EgressRefused("must not contain a user name or password; give credentials in their own fields")
    if policy.name_allowed(parsed.host):
        return
    public = ("must be a public address: loopback, private, link-local and other internal addresses are refused "
              "(an operator can allow a host with CRM_GRAPH_CONNECTOR_ALLOWED_HOSTS)")
    try:
        checked_addresses(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80), policy)
    except EgressRefused:
        raise EgressRefused(public) from None
    except (OSError, UnicodeError):
        if policy.require_resolution:
            raise EgressRefused(public + "; the host name must resolve") from None


class EgressTransport(httpx.BaseTransport):
    """An httpx transport that checks every request's destination against the policy, then
    connects to the address it checked (so a second DNS answer cannot send it elsewhere)."""

    def __init__(self, policy: EgressPolicy, inner: httpx.BaseTransport | None = None, **transport_options) -> None:
        self.policy = policy
        self.inner = inner or httpx.HTTPTransport(**transport_options)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https") or (self.policy.require_https and url.scheme != "https"):
            raise EgressRefused(f"{url.scheme} requests are refused")
        host = url.host
        if not self.policy.name_allowed(host):
            try:
                address = checked_addresses(host, url.port or (443 if url.scheme == "https" else 80), self.policy)[0]
            except (OSError, UnicodeError) as exc:
                raise httpx.ConnectError(f"could not resolve {host}: {exc}", request=request) from None
            if str(address) != host.strip("[]"):
                request.url = url.copy_with(host=str(address))
                if url.scheme == "https" and literal_address(host) is None:
                    request.extensions = {**request.extensions, "sni_hostname": host}
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


_current: ContextVar[EgressPolicy | None] = ContextVar("crm_graph_egress_policy", default=None)


def current_policy() -> EgressPolicy:
    """The policy of the code running now: the one `use_policy` set (every job runs under its worker's,
    see `workers.runner`), else this process's settings."""
    policy = _current.get()
    if policy is None:
        from crm_graph.settings import get_settings

        policy = EgressPolicy.from_settings(get_settings())
    return policy


@contextmanager
def use_policy(policy: EgressPolicy) -> Iterator[EgressPolicy]:
    """Make `policy` the one connectors built inside the block use (a sync job sets its worker's)."""
    token = _current.set(policy)
    try:
        yield policy
    finally:
        _current.reset(token)
