"""The web console in headless Chromium: what its first load costs, and whether a long answer
streams in without blocking the page.

On the bench stack, a gateway and a generation process serve the built console (`make web`)
and a fake OpenAI-compatible upstream streams 300 tokens 30 ms apart. Measured, each a median
of `--runs` fresh browser contexts (no cache):

  - the login page's first load: script and style bytes transferred (gzipped, as sent) and
    the time from navigation to the form on screen; the API's `/docs` page (Swagger UI, from
    the same gateway) to its first operation on screen, in the same run, as the baseline;
  - the chat page after a reload (the session found again through the refresh cookie), to its
    message box on screen;
  - a 300-token answer streamed into the chat at phone width (390 x 844): long tasks (main
    thread busy over 50 ms, from the browser's `longtask` timeline) while it streams.

    python -m bench.console_load [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from bench.accounts import login_admin
from bench.generation_path import STREAMS, register_upstream, service_env
from bench.harness import free_port, serve_until_ready

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
BUILT = Path("web/dist/index.html")
PASSWORD = "Correct-Horse-42"
LONG_MODEL = "bench-upstream/" + next(model for _, model, _ in STREAMS if "300" in model)
# The time from navigation until `selector` is on screen, checked every animation frame.
ON_SCREEN = "selector => document.querySelector(selector) ? performance.now() : null"
ASSETS = """() => performance.getEntriesByType('resource')
  .filter(e => /\\.(js|css)$/.test(new URL(e.name).pathname))
  .reduce((sum, e) => sum + e.transferSize, 0)"""
WATCH_LONG_TASKS = """() => {
  window.longTasks = [];
  new PerformanceObserver(list => window.longTasks.push(...list.getEntries().map(e => e.duration)))
    .observe({type: 'longtask', buffered: false});
}"""


def shown_after(page: Page, selector: str) -> float:
    return float(page.wait_for_function(ON_SCREEN, arg=selector, polling="raf").json_value())


def first_loads(browser: Browser, base: str, runs: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {"console ms": [], "console KB": [], "docs ms": []}
    for _ in range(runs):
        context = browser.new_context(base_url=base)
        page = context.new_page()
        page.goto("/")
        found["console ms"].append(shown_after(page, "form input"))
        page.wait_for_load_state("networkidle")
        found["console KB"].append(page.evaluate(ASSETS) / 1024)
        page.goto("/docs")
        found["docs ms"].append(shown_after(page, ".opblock"))
        context.close()
    return found


def chat_reloads(browser: Browser, base: str, runs: int) -> list[float]:
    context = browser.new_context(base_url=base)
    page = context.new_page()
    register(page)
    found = []
    for _ in range(runs):
        page.reload()
        found.append(shown_after(page, "#prompt"))
    context.close()
    return found


def long_tasks_while_streaming(browser: Browser, base: str) -> tuple[list[float], int, float]:
    """The long tasks during a 300-token answer at phone width, its length in characters, and
    how long it took on screen."""
    context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844})
    page = context.new_page()
    register(page)
    page.get_by_label("Model").select_option(LONG_MODEL)
    page.get_by_label("Your message").fill("Write at length, please.")
    page.evaluate(WATCH_LONG_TASKS)
    started = time.monotonic()
    page.get_by_role("button", name="Send").click()
    page.get_by_role("button", name="Send").wait_for(timeout=60_000)
    took = time.monotonic() - started
    tasks: list[float] = page.evaluate("() => window.longTasks")
    answer = page.locator("article.message.assistant").last.inner_text()
    context.close()
    return tasks, len(answer), took


def register(page: Page) -> None:
    name = f"c{uuid.uuid4().hex[:10]}"
    page.goto("/")
    page.get_by_role("button", name="No account yet? Create one").click()
    page.get_by_label("Email").fill(f"{name}@example.org")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.locator("#prompt").wait_for()


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(runs: int) -> None:
    if not BUILT.is_file():
        sys.exit("build the console first: make web")
    upstream_port, gateway_port, generation_port = (free_port() for _ in range(3))
    upstream_url = f"http://127.0.0.1:{upstream_port}/v1"
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    env = service_env(admin_email, gateway_port, generation_port)
    fake = [sys.executable, "-m", "assistant_fakes.llm", "--port", str(upstream_port)]
    processes = [serve_until_ready(fake, f"http://127.0.0.1:{upstream_port}/_aborted")]
    try:
        for service, port in (("gateway", gateway_port), ("generation", generation_port)):
            processes.append(
                serve_until_ready(
                    [sys.executable, "-m", f"{service}_service", "serve"],
                    f"http://127.0.0.1:{port}/readyz",
                    env=env,
                )
            )
        base = f"http://127.0.0.1:{gateway_port}"
        register_upstream(base, admin_email, upstream_url)
        with httpx.Client(base_url=base) as http:
            login_admin(http, admin_email)
        time.sleep(6)  # every gateway worker's catalogue in memory has been read again
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            loads = first_loads(browser, base, runs)
            reloads = chat_reloads(browser, base, runs)
            tasks, length, took = long_tasks_while_streaming(browser, base)
            browser.close()
        report(loads, reloads, tasks, length, took)
    finally:
        for process in processes:
            process.terminate()


def report(
    loads: dict[str, list[float]], reloads: list[float], tasks: list[Any], length: int, took: float
) -> None:
    print(f"Web console in headless Chromium, median of {len(reloads)} fresh loads")
    print(f"  login page: scripts + styles {median(loads['console KB']):.1f} KB transferred,")
    print(f"    on screen after {median(loads['console ms']):.0f} ms", end="")
    print(f" (Swagger UI's /docs, same run: {median(loads['docs ms']):.0f} ms)")
    print(f"  chat page after a reload (session from the cookie): {median(reloads):.0f} ms")
    longest = f", longest {max(tasks):.0f} ms" if tasks else ""
    print(
        f"  300-token answer at 390 px wide: {length} characters in {took:.1f} s,"
        f" {len(tasks)} long tasks{longest}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
