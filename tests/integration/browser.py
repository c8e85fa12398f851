"""Headless Chromium (Debian's, installed by `make install`) driven by Playwright, on a closed
network: a request for anything but this machine is refused and remembered."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's hosts.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Browsing:
    page: Page
    refused: list[str] = field(default_factory=list)  # URLs elsewhere the page asked for
    errors: list[str] = field(default_factory=list)  # the page's uncaught script errors


@contextmanager
def offline_page() -> Iterator[Browsing]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            browsing = Browsing(page)

            def local_only(route: Route) -> None:
                url = route.request.url
                if url.startswith("data:") or urlsplit(url).hostname in LOCAL_HOSTS:
                    route.continue_()
                else:
                    browsing.refused.append(url)
                    route.abort("internetdisconnected")

            page.route("**/*", local_only)
            page.on("pageerror", lambda error: browsing.errors.append(str(error)))
            yield browsing
        finally:
            browser.close()
