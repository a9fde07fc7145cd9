"""Headless Chromium driven over the DevTools protocol, with aiohttp's WebSocket client (a
dependency of textual-serve already): no Playwright. Enough to open a page, read what its
WebSockets received, and take a screenshot."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

# Before the page's own scripts: every WebSocket's incoming bytes are kept, so the test can
# read the text the terminal was sent (textual-serve draws it on a canvas, not in the DOM).
RECORD_SOCKETS = """
(() => {
  const chunks = [];
  const Native = window.WebSocket;
  function Recorded(...args) {
    const ws = new Native(...args);
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string") chunks.push(new TextEncoder().encode(e.data));
      else if (e.data instanceof ArrayBuffer) chunks.push(new Uint8Array(e.data));
      else if (e.data instanceof Blob)
        e.data.arrayBuffer().then((b) => chunks.push(new Uint8Array(b)));
    });
    return ws;
  }
  Recorded.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recorded[k] = Native[k];
  window.WebSocket = Recorded;
  window.__received = () => {
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) { all.set(c, at); at += c.length; }
    return new TextDecoder().decode(all);
  };
})();
"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        n = next(self.ids)
        await self.ws.send_str(json.dumps({"id": n, "method": method, "params": params}))
        while True:  # events arrive in between; the answer carries our id
            msg = json.loads((await self.ws.receive(timeout=30)).data)
            if msg.get("id") == n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        r = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return r.get("result", {}).get("value")

    async def wait_for_text(self, text: str, timeout: float) -> str:
        """What the page's WebSockets received, once it contains `text` (or at the timeout)."""
        end = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < end:
            seen = await self.evaluate("window.__received ? window.__received() : ''") or ""
            if text in seen:
                break
            await asyncio.sleep(0.25)
        return str(seen)

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


async def open_page(binary: str, profile: Path, url: str, run: Any) -> Any:
    """Start Chromium headless with a profile of its own, open `url` with the recorder in
    place, and give the page to `run`; the browser is closed afterwards, whatever happens."""
    proc = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1280,800",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        port_file = profile / "DevToolsActivePort"
        end = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > end or proc.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as r:
                targets = await r.json()
            target = next(t for t in targets if t.get("type") == "page")
            async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.call("Page.enable")
                await page.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_SOCKETS)
                await page.call("Page.navigate", url=url)
                return await run(page)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
