"""``--external``: real requests to a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import write

from paddle_style_guide.cli import main
from paddle_style_guide.external import CACHE_FORMAT, ExternalChecker


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def _serve(self, body: bool):
        server = self.server
        path = self.path.split("?")[0]
        with server.lock:
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
            server.requests.append((self.command, path))
        try:
            if path.startswith("/slow"):
                time.sleep(0.3)
            if path == "/timeout":
                time.sleep(2.0)
        finally:
            # counted out before answering: the client cannot start its next
            # request while this one still counts as in flight
            with server.lock:
                server.in_flight -= 1
        if path == "/head-refused" and self.command == "HEAD":
            self.send_error(405)
        elif path == "/redirect":
            self.send_response(301)
            self.send_header("Location", "/ok")
            self.end_headers()
        elif path == "/missing":
            self.send_error(404)
        elif path == "/busy":
            self.send_error(429)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "2")
            self.end_headers()
            if body:
                self.wfile.write(b"ok")

    def do_HEAD(self):
        self._serve(body=False)

    def do_GET(self):
        self._serve(body=True)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.lock = threading.Lock()
    srv.in_flight = srv.max_in_flight = 0
    srv.requests = []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_statuses(server, tmp_path):
    checker = ExternalChecker(timeout=0.8, cache_path=str(tmp_path / "cache.json"))
    port = closed_port()
    urls = [f"{server.url}/{p}" for p in ("ok", "missing", "head-refused", "redirect", "timeout", "busy")]
    urls += [f"{server.url}/ok#fragment", f"http://127.0.0.1:{port}/refused"]
    got = {u.rsplit("/", 1)[1]: (s.ok, s.reason) for u, s in checker.check(urls).items()}
    assert got["ok"] == (True, "HTTP 200")
    assert got["ok#fragment"] == (True, "HTTP 200")  # one request for both
    assert got["missing"] == (False, "HTTP 404 Not Found")
    assert got["head-refused"] == (True, "HTTP 200")  # HEAD 405, then GET
    assert got["redirect"] == (True, "HTTP 200")
    assert got["timeout"] == (False, "timed out after 0.8 s")
    assert got["busy"][0] is None  # rate limited: unknown, not broken
    assert got["refused"] == (False, "connection refused")
    assert ("GET", "/head-refused") in server.requests
    assert sum(1 for _, p in server.requests if p == "/ok") == 2  # /ok itself + the redirect


def test_concurrency_is_limited(server, tmp_path):
    urls = [f"{server.url}/slow{i}" for i in range(8)]
    checker = ExternalChecker(max_connections=3, per_host=3, cache_path=None)
    assert all(s.ok for s in checker.check(urls).values())
    assert server.max_in_flight <= 3
    server.max_in_flight = 0
    checker = ExternalChecker(max_connections=8, per_host=2, cache_path=None)
    checker.check([f"{server.url}/slow-again{i}" for i in range(8)])
    assert 1 <= server.max_in_flight <= 2  # per host


def test_cache_is_reused_and_written_atomically(server, tmp_path):
    cache = tmp_path / "links.json"
    first = ExternalChecker(cache_path=str(cache))
    first.check([f"{server.url}/ok", f"{server.url}/missing"])
    data = json.loads(cache.read_text())
    assert data["format"] == CACHE_FORMAT
    assert list(data["links"]) == [f"{server.url}/ok"]  # failures are not cached
    assert [p.name for p in tmp_path.iterdir()] == ["links.json"]  # no temporary file left

    server.requests.clear()
    second = ExternalChecker(cache_path=str(cache))
    result = second.check([f"{server.url}/ok", f"{server.url}/missing"])
    assert result[f"{server.url}/ok"].ok and not result[f"{server.url}/missing"].ok
    # /ok came from the cache; /missing was asked again (HEAD, then GET to be sure)
    assert server.requests == [("HEAD", "/missing"), ("GET", "/missing")]

    expired = ExternalChecker(cache_path=str(cache), cache_ttl=0)
    server.requests.clear()
    expired.check([f"{server.url}/ok"])
    assert [p for _, p in server.requests] == ["/ok"]


def test_corrupt_cache_is_ignored(server, tmp_path):
    cache = tmp_path / "links.json"
    cache.write_text("{not json")
    checker = ExternalChecker(cache_path=str(cache))
    assert checker.check([f"{server.url}/ok"])[f"{server.url}/ok"].ok
    assert "ignoring the link cache" in checker.notes[0]
    assert json.loads(cache.read_text())["format"] == CACHE_FORMAT


def test_cli_external(server, tmp_path, capsys):
    page = write(tmp_path / "p.md", f"# P\n\n[a]({server.url}/ok) [b]({server.url}/missing#x)\n"
                 f'<a href="{server.url}/missing">again</a>\n')
    cache = tmp_path / "c.json"
    assert main(["check", str(page), "--format", "json", "-q"]) == 0  # not requested
    assert json.loads(capsys.readouterr().out) == []
    assert server.requests == []
    assert main(["check", str(page), "--external", "--cache", str(cache), "--timeout", "2",
                 "--format", "json", "-q"]) == 1
    out = capsys.readouterr().out
    assert [(p["line"], p["target"], p["reason"]) for p in json.loads(out)] == [
        (3, f"{server.url}/missing#x", "HTTP 404 Not Found"),
        (4, f"{server.url}/missing", "HTTP 404 Not Found"),
    ]
    # one page, one check: "/missing#x" and "/missing" share the request
    assert sorted(server.requests) == [("GET", "/missing"), ("HEAD", "/missing"), ("HEAD", "/ok")]
