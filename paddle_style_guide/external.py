"""Checking http(s) links (``--external``): a timeout per request, a bounded
number of connections (in all and per host), and a JSON cache of the links
that worked, so that a second run does not ask the network again."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from .config import DEFAULT_EXTERNAL_CACHE as DEFAULT_CACHE

CACHE_FORMAT = "paddle_style_guide.external-links/1"
USER_AGENT = "paddle-style-guide-link-check/1 (Python urllib)"
# Servers that refuse HEAD (or robots) often answer GET properly.
_RETRY_WITH_GET = {400, 403, 404, 405, 406, 501}


@dataclass(frozen=True, slots=True)
class UrlStatus:
    ok: bool | None  # None: could not tell (rate limited)
    reason: str  # "HTTP 200", "timed out after 10 s", ...
    code: int | None = None  # the HTTP status, when there was one


class ExternalChecker:
    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_connections: int = 8,
        per_host: int = 2,
        cache_path: str | None = DEFAULT_CACHE,
        cache_ttl: float = 7 * 24 * 3600,
    ):
        self.timeout = timeout
        self.max_connections = max(1, max_connections)
        self.per_host = max(1, per_host)
        self.cache_path = cache_path
        self.cache_ttl = cache_ttl
        self.notes: list[str] = []  # things worth telling the user (stderr)
        self.requests_made = 0
        self._lock = threading.Lock()
        self._host_slots: dict[str, threading.Semaphore] = {}

    def check(self, urls: Iterable[str]) -> dict[str, UrlStatus]:
        """Status of each URL (fragments are not checked, only the page)."""
        wanted = {u: u.split("#", 1)[0] for u in urls}
        cache = self._load_cache()
        now = time.time()
        results: dict[str, UrlStatus] = {}
        todo = []
        for page in sorted(set(wanted.values())):
            hit = cache.get(page)
            if hit and now - hit.get("checked_at", 0) < self.cache_ttl:
                results[page] = UrlStatus(True, str(hit.get("reason", "cached")))
            else:
                todo.append(page)
        if todo:
            with ThreadPoolExecutor(self.max_connections) as pool:
                for page, status in zip(todo, pool.map(self._check_one, todo)):
                    results[page] = status
                    if status.ok:
                        cache[page] = {"reason": status.reason, "checked_at": now}
                    else:
                        cache.pop(page, None)
                    if status.ok is None:
                        self.notes.append(f"{page}: {status.reason}")
            self._save_cache(cache)
        return {url: results[page] for url, page in wanted.items()}

    # -- one request --------------------------------------------------------
    def _slot(self, url: str) -> threading.Semaphore:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            if host not in self._host_slots:
                self._host_slots[host] = threading.Semaphore(self.per_host)
            return self._host_slots[host]

    def _check_one(self, url: str) -> UrlStatus:
        with self._slot(url):
            status = self._request(url, "HEAD")
            if status.ok is False and status.code in _RETRY_WITH_GET:
                status = self._request(url, "GET")
            return status

    def _request(self, url: str, method: str) -> UrlStatus:
        with self._lock:
            self.requests_made += 1
        req = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                if method == "GET":
                    resp.read(1)
                return UrlStatus(True, f"HTTP {resp.status}", resp.status)
        except urllib.error.HTTPError as exc:
            if exc.code == 429:
                return UrlStatus(None, "rate limited (HTTP 429); not checked, try later", 429)
            return UrlStatus(False, f"HTTP {exc.code} {exc.reason}".rstrip(), exc.code)
        except urllib.error.URLError as exc:
            return UrlStatus(False, self._network_reason(exc.reason))
        except (TimeoutError, socket.timeout):
            return UrlStatus(False, f"timed out after {self.timeout:g} s")
        except (OSError, ValueError, http.client.HTTPException) as exc:
            return UrlStatus(False, f"request failed: {exc}")

    def _network_reason(self, reason) -> str:
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return f"timed out after {self.timeout:g} s"
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused"
        if isinstance(reason, socket.gaierror):
            return "host not found"
        if isinstance(reason, ssl.SSLError):
            return f"TLS error: {reason.reason or reason}"
        return f"request failed: {reason}"

    # -- cache ----------------------------------------------------------------
    def _load_cache(self) -> dict:
        if not self.cache_path or not os.path.exists(self.cache_path):
            return {}
        try:
            with open(self.cache_path, encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("format") != CACHE_FORMAT or not isinstance(data.get("links"), dict):
                raise ValueError("unknown format")
            return dict(data["links"])
        except (OSError, ValueError, AttributeError) as exc:
            self.notes.append(f"ignoring the link cache {self.cache_path} ({exc}); rebuilding it")
            return {}

    def _save_cache(self, links: dict) -> None:
        if not self.cache_path:
            return
        directory = os.path.dirname(os.path.abspath(self.cache_path))
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".links-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({"format": CACHE_FORMAT, "links": links}, fh, indent=1, sort_keys=True)
                os.replace(tmp, self.cache_path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:
            self.notes.append(f"could not write the link cache {self.cache_path}: {exc}")

