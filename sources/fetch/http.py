"""A small HTTP client for the fetch command: timeouts, retries with backoff, atomic downloads.

Why this is safe to rely on:

* **Retries only where a retry can help.** Connection errors, timeouts (also a response that
  stalls half-way: the socket read times out), 5xx and 429 are retried up to ``retries`` times
  with exponential backoff (``backoff_s * 2**attempt``, capped at ``max_backoff_s``); a
  ``Retry-After`` header (seconds or an HTTP date) replaces the computed wait, capped the same
  way. Any other 4xx is the caller's mistake (a wrong URL, a rejected request body) and fails at
  once — repeating it would only load the service.
* **One line per failure.** Every failure becomes a :class:`~plekzoeker.errors.FetchError`
  naming the host or the dataset: ``cannot reach api.pdok.nl: connection refused (3 tries)``,
  ``BAG pand items: HTTP 503 from api.pdok.nl after 3 tries``.
* **Partial files never replace good ones.** :meth:`Http.download` streams into
  ``<dest>.part-<pid>`` in the destination folder, hashes (sha256) while writing, checks the byte
  count against ``Content-Length`` (a truncated body is a retryable failure), runs the caller's
  ``verify`` (zip integrity, JSON shape ...), and only then ``os.replace``-s the file onto
  ``dest`` — an atomic rename on one file system. On any failure the part file is removed and
  ``dest`` is exactly what it was.

Only the standard library is used (``urllib.request``); the clock and the sleep are injectable so
tests never wait for real backoff.
"""
from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plekzoeker.errors import FetchError

log = logging.getLogger(__name__)

USER_AGENT = "plekzoeker-fetch/0.1 (+https://github.com/; open data for housing)"
CHUNK = 1 << 16


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retries (config ``fetch.timeout_s``, ``fetch.retries``, ``fetch.backoff_s``, ``fetch.max_backoff_s``)."""

    timeout_s: float
    retries: int                # tries in all (>= 1)
    backoff_s: float
    max_backoff_s: float

    @classmethod
    def from_config(cls, fetch_cfg: dict) -> HttpPolicy:
        """The ``fetch`` section's HTTP keys (their values are checked by settings.validate_config)."""
        from plekzoeker.errors import ConfigError

        try:
            return cls(timeout_s=float(fetch_cfg["timeout_s"]), retries=int(fetch_cfg["retries"]),
                       backoff_s=float(fetch_cfg["backoff_s"]), max_backoff_s=float(fetch_cfg["max_backoff_s"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"config fetch: missing or invalid {exc} (timeout_s, retries, backoff_s, max_backoff_s)") from None


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    def json(self, what: str) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise FetchError(f"{what}: {host_of(self.url)} sent no valid JSON "
                             f"({len(self.body)} bytes, starts {self.body[:40]!r})") from None


@dataclass(frozen=True)
class FileInfo:
    path: Path
    size: int
    sha256: str


class _Retryable(Exception):
    """A failure worth another try: ``reason`` is the one-line text used if the tries run out."""

    def __init__(self, reason: str, retry_after: float | None = None, unreachable: bool = False):
        super().__init__(reason)
        self.reason, self.retry_after, self.unreachable = reason, retry_after, unreachable


def host_of(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _reason(exc: BaseException) -> str:
    r = getattr(exc, "reason", exc)
    if isinstance(r, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(r, ConnectionRefusedError):
        return "connection refused"
    if isinstance(r, socket.gaierror):
        return "name not found (offline?)"
    text = str(r).strip() or type(r).__name__
    return text.splitlines()[0]


class Http:
    """``request`` / ``get_json`` / ``download`` with the retry policy above."""

    def __init__(self, policy: HttpPolicy, sleep: Callable[[float], None] = time.sleep):
        self.policy = policy
        self.sleep = sleep
        self.requests = 0  # made, for logs and tests

    # --- core ------------------------------------------------------------------------------------
    def _retrying(self, what: str, url: str, attempt_fn: Callable[[], Any]) -> Any:
        tries = max(1, int(self.policy.retries))
        last: _Retryable | None = None
        for attempt in range(tries):
            try:
                return attempt_fn()
            except FetchError as exc:  # not worth a retry (a 4xx): say which request it was
                if str(exc).startswith(f"{what}:"):
                    raise
                raise FetchError(f"{what}: {exc}") from None
            except _Retryable as exc:
                last = exc
                if attempt + 1 >= tries:
                    break
                wait = min(self.policy.backoff_s * (2 ** attempt), self.policy.max_backoff_s)
                if exc.retry_after is not None:
                    wait = min(exc.retry_after, self.policy.max_backoff_s)
                log.info("%s: %s; retry %d/%d in %.1f s", what, exc.reason, attempt + 1, tries - 1, wait)
                self.sleep(wait)
        assert last is not None
        n = f"{tries} tr{'y' if tries == 1 else 'ies'}"
        if last.unreachable:
            raise FetchError(f"cannot reach {host_of(url)}: {last.reason} ({n}; {what})")
        raise FetchError(f"{what}: {last.reason} after {n}")

    def _open(self, method: str, url: str, body: bytes | None, headers: dict[str, str]):
        req = urllib.request.Request(url, data=body, method=method,
                                     headers={"User-Agent": USER_AGENT, **headers})
        self.requests += 1
        try:
            return urllib.request.urlopen(req, timeout=self.policy.timeout_s)  # noqa: S310 - http(s) only, checked
        except urllib.error.HTTPError as exc:
            status = exc.code
            detail = _snippet(exc.read() if exc.fp else b"")
            if status >= 500 or status == 429:
                raise _Retryable(f"HTTP {status} from {host_of(url)}{detail}",
                                 retry_after_s(exc.headers.get("Retry-After"))) from None
            raise FetchError(f"{host_of(url)} refused the request: HTTP {status}{detail} ({method} {_short_url(url)})") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            raise _Retryable(_reason(exc), unreachable=True) from None

    def request(self, method: str, url: str, *, what: str, json_body: Any = None, data: bytes | None = None,
                headers: dict[str, str] | None = None, accept: str = "application/json") -> Response:
        """One HTTP exchange with retries; the whole body is read (use :meth:`download` for files)."""
        _check_url(url)
        hdrs = {"Accept": accept, **(headers or {})}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"

        def attempt() -> Response:
            resp = self._open(method, url, data, hdrs)
            with resp:
                try:
                    body = resp.read()
                except TimeoutError as exc:
                    raise _Retryable(f"{host_of(url)} stalled while sending ({_reason(exc)})") from None
                except (OSError, http_incomplete()) as exc:
                    raise _Retryable(f"{host_of(url)} broke off the response ({_reason(exc)})") from None
                return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, body, resp.geturl())

        return self._retrying(what, url, attempt)

    def get_json(self, url: str, *, what: str, params: dict | None = None) -> Any:
        if params:
            url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        return self.request("GET", url, what=what).json(what)

    def download(self, url: str, dest: Path, *, what: str, verify: Callable[[Path], None] | None = None,
                 progress: Callable[[int, int | None], None] | None = None) -> FileInfo:
        """Stream ``url`` to ``dest`` atomically (write → verify → rename); returns size and sha256."""
        _check_url(url)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(f"{dest.name}.part-{os.getpid()}")

        def attempt() -> FileInfo:
            h, size = hashlib.sha256(), 0
            try:
                resp = self._open("GET", url, None, {"Accept": "*/*"})
                with resp, open(part, "wb") as out:
                    expected = resp.headers.get("Content-Length")
                    total = int(expected) if expected and expected.isdigit() else None
                    while True:
                        try:
                            chunk = resp.read(CHUNK)
                        except TimeoutError as exc:
                            raise _Retryable(f"{host_of(url)} stalled after {size:,} bytes ({_reason(exc)})") from None
                        except (OSError, http_incomplete()) as exc:
                            raise _Retryable(f"download from {host_of(url)} broke off after {size:,} bytes "
                                             f"({_reason(exc)})") from None
                        if not chunk:
                            break
                        out.write(chunk)
                        h.update(chunk)
                        size += len(chunk)
                        if progress:
                            progress(len(chunk), total)
                    if total is not None and size != total:
                        raise _Retryable(f"download from {host_of(url)} truncated: {size:,} of {total:,} bytes")
                    out.flush()
                    os.fsync(out.fileno())
                if verify:
                    try:
                        verify(part)
                    except FetchError as exc:  # corrupt in transit (bad zip, bad checksum): worth a fresh copy
                        raise _Retryable(str(exc)) from None
                os.replace(part, dest)
                return FileInfo(dest, size, h.hexdigest())
            finally:
                part.unlink(missing_ok=True)

        return self._retrying(what, url, attempt)


def http_incomplete():
    import http.client

    return http.client.IncompleteRead


def _check_url(url: str) -> None:
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise FetchError(f"not an http(s) URL: {url!r}")


def _short_url(url: str) -> str:
    p = urllib.parse.urlsplit(url)
    return p.path if len(url) > 120 else url


def _snippet(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace").strip().replace("\n", " ")
    return f": {text}" if text else ""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(dest: Path, data: bytes) -> FileInfo:
    """Write bytes to ``dest`` through a part file and a rename (same guarantees as a download)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f"{dest.name}.part-{os.getpid()}")
    try:
        with open(part, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return FileInfo(dest, len(data), hashlib.sha256(data).hexdigest())
