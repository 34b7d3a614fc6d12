"""The web workstation in a real browser: headless Chromium (Debian's package) driven by Playwright.

The browser logs in, runs the workstation through textual-serve's own page script, types on its
terminal, and the screen it was sent is read back with pyte (the terminal draws on a canvas).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from serve_helpers import DAEMON_UP, PASSWORDS, Stack, need, wait_until

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    executable = need("chromium", "the browser tests drive Debian's chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (a dev dependency) is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Keeps what the page's own script receives on its websocket (the terminal draws on a canvas, and
# the browser's devtools events for websocket frames stop after a few dozen frames).
RECORDER = """
(() => {
  const Native = window.WebSocket;
  window.__tt = {frames: [], url: ""};
  function Recording(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    window.__tt.url = String(url);
    ws.addEventListener("message", (e) => {
      if (!(e.data instanceof ArrayBuffer)) return;
      const bytes = new Uint8Array(e.data);
      let text = "";
      for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
      window.__tt.frames.push(btoa(text));
    });
    return ws;
  }
  Recording.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recording[k] = Native[k];
  window.WebSocket = Recording;
})();
"""


class Screen:
    """What the browser's terminal was sent, replayed on a pyte screen of the same size."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.screen: Any = None
        self.stream: Any = None
        self.focused = False
        page.add_init_script(RECORDER)

    def poll(self) -> None:
        import pyte

        self.page.wait_for_timeout(100)
        if self.screen is None:
            url = self.page.evaluate("window.__tt ? window.__tt.url : ''")
            if not url:
                return
            query = parse_qs(urlsplit(url).query)
            self.screen = pyte.Screen(int(query["width"][0]), int(query["height"][0]))
            self.stream = pyte.ByteStream(self.screen)
        for frame in self.page.evaluate("window.__tt.frames.splice(0)"):
            self.stream.feed(base64.b64decode(frame))

    @property
    def text(self) -> str:
        return "" if self.screen is None else "\n".join(self.screen.display)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def seen() -> bool:
            self.poll()
            match = re.search(pattern, self.text)
            if match:
                found.append(match)
            return match is not None

        try:
            wait_until(seen, timeout, f"{pattern!r} on the browser's screen")
        except AssertionError:
            raise AssertionError(f"{pattern!r} never appeared; the screen:\n{self.text}") from None
        return found[0]

    def type(self, keys: str) -> None:
        if not self.focused:  # once: focusing again sends the app a blur and a focus
            self.page.focus(".xterm-helper-textarea")
            self.focused = True
        self.page.keyboard.type(keys, delay=20)
        self.poll()

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.poll()


def log_in(browser: Any, url: str, user: str, secret: str) -> tuple[Any, Screen]:
    page = browser.new_page(viewport={"width": 1280, "height": 820})
    screen = Screen(page)
    page.goto(url)
    assert page.url.endswith("/login")
    page.fill("#user", user)
    page.fill("#secret", secret)
    page.click("#login")
    page.wait_for_load_state()
    return page, screen


def send_order(screen: Screen) -> None:
    """`:buy 0.01 BTC/USDT`, then ctrl+y once the confirmation has checked and armed."""
    screen.type(":")
    screen.wait_for(r"try: buy 0\.5")  # the command line has the keyboard now
    screen.type("buy 0.01 BTC/USDT")
    screen.press("Enter")
    screen.wait_for(r"Send BUY 0\.01 BTC/USDT")
    screen.wait_for(r"passes the engine's risk checks")
    time.sleep(0.6)  # the dialog arms after ui.confirm_arm_ms
    screen.press("Control+y")


def bid(screen: Screen) -> str:
    return screen.wait_for(r"BTC/USDT\s+([\d,]+\.\d+)").group(1)


def test_trader_trades_and_viewer_is_refused_in_the_browser(stack: Stack, tmp_path: Path) -> None:
    daemon = stack.daemon(wait=False)  # it starts while the browser does
    with chromium() as browser:
        daemon.wait_for(DAEMON_UP)
        url = stack.web()  # serve needs the daemon up

        page, _ = log_in(browser, url, "alice", "not her password")
        assert "wrong user name or password" in page.inner_text("#login-error")
        assert not [c for c in page.context.cookies() if c["name"] == "tt_session"]
        page.close()

        page, screen = log_in(browser, url, "alice", PASSWORDS["alice"])
        assert page.inner_text("#role") == "TRADER" and page.inner_text("#who") == "alice"
        cookie = next(c for c in page.context.cookies() if c["name"] == "tt_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        screen.wait_for(r"PAPER")
        first = bid(screen)
        wait_until(lambda: bid(screen) != first, 30, "a new BTC/USDT price (live prices)")
        before = len(stack.orders())
        send_order(screen)
        orders = wait_until(lambda: stack.orders()[before:], 20, "the trader's order at the daemon")
        assert orders[0]["symbol"] == "BTC/USDT" and orders[0]["quantity"] == "0.01"
        page.screenshot(path=str(tmp_path / "trader.png"))
        page.close()

        page, screen = log_in(browser, url, "vera", PASSWORDS["vera"])
        assert page.inner_text("#role") == "VIEWER"
        screen.wait_for(r"PAPER")
        screen.wait_for(r" VIEWER  vera │")  # the workstation's status bar says it too
        bid(screen)
        placed = len(stack.orders())
        send_order(screen)
        screen.wait_for(r"refused by the daemon")
        page.screenshot(path=str(tmp_path / "viewer.png"))
        assert len(stack.orders()) == placed  # nothing reached the engine
        page.close()

    assert stack.audited("alice/trader@web", "session_start")
    assert stack.audited("alice/trader@web", "command", "place")
    assert stack.audited("vera/viewer@web", "refused", "place")
    wait_until(lambda: stack.audited("vera/viewer@web", "session_end"), 20, "the viewer's session end")
