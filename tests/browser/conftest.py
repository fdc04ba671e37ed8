"""Fixtures of the browser tests: the real Podium server (which the tests may stop and
start again on the same port and data directory), Debian's headless Chromium driven by
Playwright, and small helpers for the HTTP API.

scripts/test-browser starts the server and passes it here through BROWSER_TEST_*
variables. Run without them (plain `pytest tests/browser`), this file starts
.build/debug/podium itself (or $PODIUM_BINARY) on a free port with a temporary data
directory.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("BROWSER_TEST_OUTPUT", ROOT / "test-output" / "browser"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
JWT_SECRET = "podium-browser-tests-secret-0123456789ab"  # 40 characters
PASSWORD = "correct-horse-battery"
ADMIN_USERNAME = "admin"

expect.set_options(timeout=10_000)


class Server:
    """The podium process under test: stop() and start() keep its command, port and data
    directory, so a restart finds the scores stored before it."""

    def __init__(self, command: list[str], cwd: Path, base_url: str, pidfile: Path, log: Path, owned: bool):
        self.command = command
        self.cwd = cwd
        self.base_url = base_url
        self.pidfile = pidfile
        self.log = log
        self.owned = owned
        self.process: subprocess.Popen | None = None
        self.data_directory: Path | None = None

    @property
    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/ready", timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (graceful: the server snapshots and closes sockets with 1001), then
        waits until the process is gone; SIGKILL after `timeout`."""
        pid = self.pid
        if pid is None or not self._alive(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._alive(pid):
            os.kill(pid, signal.SIGKILL)
            while self._alive(pid):
                time.sleep(0.05)
        if self.process is not None and self.process.pid == pid:
            self.process.wait(timeout=5)
            self.process = None

    def start(self, timeout: float = 60) -> None:
        """Starts the server with the same command and waits for GET /ready = 200."""
        log = open(self.log, "ab")
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.pidfile.write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}; see {self.log}")
            if self.is_ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"the server was not ready within {timeout} s; see {self.log}")

    def restart(self) -> None:
        self.stop()
        self.start()

    # The HTTP API, for setting up what a test needs without clicking through it.

    def call(self, method: str, path: str, body=None, token: str | None = None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if body is not None:
            request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                text = answer.read().decode()
                return answer.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, (json.loads(text) if text else None)

    def register(self, username: str, display_name: str, country: str = "GB") -> dict:
        status, answer = self.call("POST", "/api/auth/register", {
            "username": username, "password": PASSWORD, "displayName": display_name, "countryCode": country,
        })
        assert status == 201, (status, answer)
        return answer

    def login(self, username: str) -> dict | None:
        status, answer = self.call("POST", "/api/auth/login", {"username": username, "password": PASSWORD})
        return answer if status == 200 else None

    def submit_run(self, token: str, game_id: str, score: int) -> dict:
        status, session = self.call("POST", "/api/game-sessions", {"gameId": game_id}, token)
        assert status == 201, (status, session)
        status, answer = self.call("POST", "/api/scores/submit", {
            "gameId": game_id, "score": score, "runId": str(uuid.uuid4()), "sessionToken": session["token"],
        }, token)
        assert status == 200, (status, answer)
        return answer

    def ingest(self, game_id: str, user_id: str, display_name: str, score: int, country: str = "GB") -> dict:
        """Seed 000's trusted ingest (POST /score, loopback without a secret)."""
        status, answer = self.call("POST", "/score", {
            "gameId": game_id, "userId": user_id, "displayName": display_name, "countryCode": country,
            "score": score, "achievedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
        assert status == 200, (status, answer)
        return answer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    OUTPUT.mkdir(parents=True, exist_ok=True)
    if os.environ.get("BROWSER_TEST_BASE_URL"):
        instance = Server(
            command=shlex.split(os.environ["BROWSER_TEST_SERVER_CMD"]),
            cwd=Path(os.environ.get("BROWSER_TEST_SERVER_CWD", ROOT)),
            base_url=os.environ["BROWSER_TEST_BASE_URL"],
            pidfile=Path(os.environ["BROWSER_TEST_SERVER_PIDFILE"]),
            log=Path(os.environ.get("BROWSER_TEST_SERVER_LOG", OUTPUT / "server.log")),
            owned=False,
        )
        if not instance.is_ready():
            instance.start()
        yield instance
        if not instance.is_ready():
            instance.start()  # leave it as scripts/test-browser expects to find it
        return
    binary = Path(os.environ.get("PODIUM_BINARY", ROOT / ".build" / "debug" / "podium"))
    if not binary.exists():
        pytest.exit(f"{binary} is missing: run swift build (or scripts/test-browser)", returncode=1)
    data_directory = Path(tempfile.mkdtemp(prefix="podium-browser."))
    port = _free_port()
    instance = Server(
        command=[str(binary), "serve", "--port", str(port), "--storage", "sqlite", "--data-directory", str(data_directory),
                 "--admin-users", ADMIN_USERNAME, "--admin-password", PASSWORD, "--jwt-secret", JWT_SECRET],
        cwd=ROOT,
        base_url=f"http://127.0.0.1:{port}",
        pidfile=data_directory.with_suffix(".pid"),
        log=OUTPUT / "server.log",
        owned=True,
    )
    instance.data_directory = data_directory
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(data_directory, ignore_errors=True)
        instance.pidfile.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def base_url(server) -> str:
    return server.base_url


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser, base_url, request):
    """Opens pages, each in its own browser context (its own localStorage, so its own
    signed-in user). Console errors are collected on `page.errors`."""
    contexts = []

    def make(width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=base_url)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, context in enumerate(contexts):
        if failed:
            for number, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(OUTPUT / f"FAILED-{request.node.name}-{index}-{number}.png"), full_page=True)
                except Exception:
                    pass
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


def extra_server(server: Server, *flags: str) -> Server:
    """Another podium process, with the test server's binary, in memory, on its own port
    and with `flags`; the caller stops it."""
    port = _free_port()
    pidfile = Path(tempfile.mkdtemp(prefix="podium-extra.")) / "podium.pid"
    instance = Server(
        command=[server.command[0], "serve", "--port", str(port), "--storage", "memory", *flags],
        cwd=ROOT,
        base_url=f"http://127.0.0.1:{port}",
        pidfile=pidfile,
        log=OUTPUT / "extra-server.log",
        owned=True,
    )
    instance.start()
    return instance


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def register_in_page(page: Page, username: str, display_name: str, country: str = "GB") -> None:
    """Registers through the header's Register dialog and waits until signed in."""
    page.click("#open-register")
    page.fill("#register-username", username)
    page.fill("#register-password", PASSWORD)
    page.fill("#register-display-name", display_name)
    page.select_option("#register-country", country)
    page.click("#register-submit")
    expect(page.locator("#signed-in-as")).to_contain_text(display_name)


def sign_in_in_page(page: Page, username: str, display_name: str | None = None) -> None:
    page.click("#open-sign-in")
    page.fill("#signin-username", username)
    page.fill("#signin-password", PASSWORD)
    page.click("#sign-in-submit")
    expect(page.locator("#signed-in-as")).to_be_visible()
    if display_name:
        expect(page.locator("#signed-in-as")).to_contain_text(display_name)


def sign_in_admin(page: Page, server: Server) -> None:
    """Signs in as `admin`, the account the server creates at start-up."""
    sign_in_in_page(page, ADMIN_USERNAME)
    expect(page.locator("#signed-in-as")).to_contain_text("(admin)")


def board_row(page: Page, scope: str, text: str):
    return page.locator(f"#rows-{scope} tr", has_text=text)
