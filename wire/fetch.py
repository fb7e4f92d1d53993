"""A reference clip as it arrives over the wire: base64 (decode_base64_audio) or an http(s) URL, fetched
with guards (fetch_reference): private and link-local addresses are refused, also the one a connection
actually dials; a few checked redirects; a size cap and a total time limit."""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from inference.contract.errors import InvalidRequest

MAX_REFERENCE_BYTES = 20 * 2**20  # defaults of FetchLimits; the roots pass the operator's settings
URL_CONNECT_TIMEOUT_S = 5.0
URL_READ_TIMEOUT_S = 15.0
URL_TOTAL_TIMEOUT_S = 30.0  # a slow drip still ends here
ALLOW_PRIVATE = False  # loopback / private / carrier-grade NAT addresses are refused
URL_MAX_REDIRECTS = 3
_DATA_URL = re.compile(r"^data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)


@dataclass(frozen=True)
class FetchLimits:
    """The operator's limits on a job's reference audio (HVS_MAX_REFERENCE_BYTES, HVS_URL_TIMEOUT_S,
    HVS_URL_ALLOW_PRIVATE), passed in by the worker; a job never sets them. None: the module's default."""

    max_bytes: int | None = None
    timeout_s: float | None = None
    allow_private: bool | None = None

    def resolved(self) -> tuple[int, float, bool]:
        return (self.max_bytes or MAX_REFERENCE_BYTES, self.timeout_s or URL_TOTAL_TIMEOUT_S,
                ALLOW_PRIVATE if self.allow_private is None else self.allow_private)


def decode_base64_audio(value: str, max_bytes: int | None = None, name: str = "reference_audio_base64") -> bytes:
    """Base64 (optionally a `data:audio/...;base64,` URL) -> bytes, refusing oversized input before decoding."""
    max_bytes = max_bytes or MAX_REFERENCE_BYTES
    text = _DATA_URL.sub("", value.strip(), count=1)
    text = "".join(text.split())  # line breaks from `base64` tools
    if len(text) * 3 // 4 > max_bytes:
        kind = "reference audio" if name.startswith("reference") else "audio files"
        raise InvalidRequest(f"{name} is over the {_mb(max_bytes)} limit for {kind}.")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"{name} is not valid base64.") from None
    if not data:
        raise InvalidRequest(f"{name} decodes to an empty file.")
    return data


def fetch_reference(url: str, limits: FetchLimits | None = None) -> bytes:
    """GET an http(s) URL with a size cap and a few checked redirects. The total timeout bounds the
    whole fetch (connect, headers, redirects, body): when it passes, the sockets are shut down, so a
    server that drips its headers one byte at a time cannot hold the job."""
    import requests

    max_bytes, timeout_s, allow_private = (limits or FetchLimits()).resolved()
    deadline = time.monotonic() + timeout_s
    too_slow = f"reference_audio_url took longer than {timeout_s:.0f} s to download."
    with requests.Session() as session, _guarded_fetch(deadline, allow_private) as guard:
        for _ in range(URL_MAX_REDIRECTS + 1):
            _check_url(url, allow_private)
            # Through an egress proxy (HTTP(S)_PROXY) the proxy dials the target, not this process.
            guard.check_addresses = not requests.utils.get_environ_proxies(url)
            try:
                response = session.get(url, stream=True, allow_redirects=False,
                                       timeout=(URL_CONNECT_TIMEOUT_S, URL_READ_TIMEOUT_S),
                                       headers={"User-Agent": "higgs-voice-studio-worker"})
            except requests.RequestException as err:
                if guard.expired:
                    raise InvalidRequest(too_slow) from None
                if isinstance(err, requests.Timeout):
                    raise InvalidRequest(f"reference_audio_url timed out: {_short(url)} did not answer in time.") from None
                raise InvalidRequest(f"reference_audio_url could not be fetched from {_short(url)} "
                                     f"({type(err).__name__}).") from None
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location", ""))
                    continue
                if response.status_code >= 400:
                    raise InvalidRequest(
                        f"reference_audio_url answered HTTP {response.status_code} ({_short(url)}).")
                return _read_capped(response, url, max_bytes, lambda: guard.expired or time.monotonic() > deadline,
                                    too_slow)
    raise InvalidRequest(f"reference_audio_url redirected more than {URL_MAX_REDIRECTS} times.")


def _read_capped(response, url: str, max_bytes: int, late: Callable[[], bool], too_slow: str) -> bytes:
    import requests
    import urllib3

    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise InvalidRequest(f"reference_audio_url is {_mb(int(declared))}; the limit is {_mb(max_bytes)}.")
    body = bytearray()
    try:
        # read1 returns what has arrived, so a slow drip still meets the total deadline between reads.
        while piece := response.raw.read1(64 * 1024, decode_content=True):
            body += piece
            if len(body) > max_bytes:
                raise InvalidRequest(f"reference_audio_url is over the {_mb(max_bytes)} limit for reference audio.")
            if late():
                raise InvalidRequest(too_slow)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        if late():
            raise InvalidRequest(too_slow) from None
        raise InvalidRequest(f"reference_audio_url timed out or broke off while downloading ({_short(url)}).") from None
    if late():  # the deadline shut the socket: what came so far looks like the end of the file
        raise InvalidRequest(too_slow)
    if not body:
        raise InvalidRequest(f"reference_audio_url returned an empty file ({_short(url)}).")
    return bytes(body)


def _check_url(url: str, allow_private: bool) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:  # e.g. "http://[::1": an unclosed IPv6 bracket
        raise InvalidRequest("reference_audio_url is not a valid URL (check its host name and port).") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidRequest(
            f"reference_audio_url must be an http:// or https:// URL (got {parts.scheme + ':' if parts.scheme else _short(url)!r})."
        )
    if not parts.hostname:
        raise InvalidRequest("reference_audio_url has no host name.")
    for address in _resolve(parts.hostname):
        _check_address(address, allow_private)


def _resolve(host: str) -> set[str]:
    try:
        return {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        raise InvalidRequest(f"reference_audio_url: the host {host!r} could not be resolved.") from None


# Cloud metadata services a job must never read: link-local 169.254.169.254 (AWS, GCP, Azure) is caught
# by is_link_local; these are the others (AWS's IPv6 endpoint, Alibaba Cloud).
_METADATA_ADDRESSES = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
# IPv6 forms that carry an IPv4 address in their last 32 bits and reach it: NAT64 (well-known and local-use
# prefixes), IPv4-translated (::ffff:0:a.b.c.d) and IPv4-compatible (::a.b.c.d). IPv4-mapped and 6to4 have
# their own properties (ipv4_mapped, sixtofour).
_CARRIES_IPV4 = tuple(ipaddress.ip_network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96",
                                                             "::/96"))
# Special-purpose blocks (IANA registry) that Python before 3.11.10 / 3.12.4 calls global.
_NOT_GLOBAL = tuple(ipaddress.ip_network(net) for net in ("192.0.0.0/24", "3fff::/20"))


def _reached(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address a connection to `ip` ends up at: the IPv4 address an IPv6 tunnelling form carries."""
    if ip.version == 4:
        return ip
    embedded = ip.ipv4_mapped or ip.sixtofour
    if embedded is None and int(ip) > 1 and any(ip in net for net in _CARRIES_IPV4):  # (:: and ::1 are themselves)
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return embedded or ip


def _check_address(address: str, allow_private: bool) -> None:
    ip = _reached(ipaddress.ip_address(address.split("%")[0]))
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip in _METADATA_ADDRESSES:
        raise InvalidRequest(f"reference_audio_url points at a link-local or special address ({ip}); not allowed.")
    # Loopback, private, carrier-grade NAT (100.64.0.0/10), reserved: anything not on the public internet,
    # unless the operator opts in. Refused before connecting, so a caller cannot map internal ports.
    public = ip.is_global and not (ip.is_private or ip.is_reserved or any(ip in net for net in _NOT_GLOBAL))
    if not public and not allow_private:
        raise InvalidRequest(f"reference_audio_url points at a private address ({ip}); this worker only fetches "
                             "public URLs.")


class _Guard:
    """One fetch's sockets, shut down when the deadline passes."""

    def __init__(self, allow_private: bool) -> None:
        self.check_addresses = True
        self.allow_private = allow_private
        self.expired = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv/connect in the fetching thread


_fetching = threading.local()
_guard_installed = threading.Lock()


def _guard_connections(event: str, args: tuple) -> None:
    """Audit hook: while this thread fetches a reference, every socket it connects is checked first and
    remembered for the deadline. A name can resolve to another address when connecting than when checked
    (DNS rebinding); the address actually dialled is the one that counts. Raised before connecting."""
    guard = getattr(_fetching, "guard", None)
    if event != "socket.connect" or guard is None:
        return
    sock, address = args
    with guard.lock:
        if guard.expired:
            raise TimeoutError("the reference fetch ran out of time")
        guard.sockets.append(sock)
    if guard.check_addresses and isinstance(address, tuple) and address and isinstance(address[0], str):
        _check_address(address[0], guard.allow_private)


@contextlib.contextmanager
def _guarded_fetch(deadline: float, allow_private: bool):
    if _guard_installed.acquire(blocking=False):  # once per process; audit hooks cannot be removed
        sys.addaudithook(_guard_connections)
    guard = _Guard(allow_private)
    timer = threading.Timer(max(deadline - time.monotonic(), 0.0), guard.expire)
    timer.daemon = True
    _fetching.guard = guard
    timer.start()
    try:
        yield guard
    finally:
        timer.cancel()
        _fetching.guard = None


def _short(url: str, limit: int = 80) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # never user:password
    text = f"{parts.scheme}://{host}{parts.path}"  # no query string: presigned URLs carry secrets there
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.1f} kB"
