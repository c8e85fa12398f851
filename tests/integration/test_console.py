"""The web console in a real headless Chromium, against the gateway and generation of the
local stack, as a person uses it: create an account, stream an answer from the mock model and
watch it grow, reload and find the conversation, switch language; another person sees none of
it; upload documents and follow them to indexed. What is checked is what the page shows."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from browser import CHROMIUM, FLAGS, LOCAL_HOSTS
from generation_stack import PASSWORD, User, register
from ingestion_stack import IngestionStack, settled, start_ingestion_stack, upload
from notion_stack import LocalNotion, new_token, start_notion_sync
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    FilePayload,
    Locator,
    Page,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)

from service_process import ServiceProcess, free_port

WEB = Path(__file__).resolve().parents[2] / "web"
BUILT = WEB / "dist" / "index.html"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = WEB.parent / ".local" / "screenshots"
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MODEL = "mock/mock-1"
ADMINS: dict[str, str] = {}  # the stack's first administrator's email -> username
PRICED = "console-priced/priced-1"  # $1,000 and $2,000 per million tokens: costs show


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestionStack]:
    """The gateway, generation and ingestion."""
    if not BUILT.is_file():
        pytest.fail("the web console is not built: `make test` builds it (or `make web`)")
    blobs = tmp_path_factory.mktemp("console-blobs")
    # Tokens far enough apart for an answer to be seen growing.
    for stack in start_ingestion_stack(blobs, {"GENERATION_MOCK_TOKEN_DELAY_MS": "40"}):
        port = free_port()
        analytics = ServiceProcess(
            "analytics_service", port, {**stack.env, "ANALYTICS_HTTP_PORT": str(port)}
        )
        try:
            analytics.wait_ready(60)
            priced_model(stack)
            yield stack
        finally:
            analytics.terminate()


def priced_model(stack: IngestionStack) -> None:
    """A model of the mock provider's kind with a price in the catalogue (which the model
    picker shows) and in analytics' price table (which costs usage: an operator's command)."""
    provider, model = PRICED.split("/")
    with stack.client() as http:
        admin = register(http, stack.admin_email)
        me = http.get("/v1/me", headers=admin.headers).json()
        ADMINS[stack.admin_email] = me["username"]
        put = http.put(
            f"/v1/admin/catalog/providers/{provider}",
            json={"label": "Priced mock", "api_style": "mock", "requires_key": False},
            headers=admin.headers,
        )
        assert put.status_code == 200, put.text
        put = http.put(
            f"/v1/admin/catalog/models/{provider}/{model}",
            json={
                "context_window": 32_000,
                "max_output_tokens": 4096,
                "input_price": "1000",
                "output_price": "2000",
            },
            headers=admin.headers,
        )
        assert put.status_code == 200, put.text
    today = datetime.now(UTC).date().replace(day=1).isoformat()
    command = [sys.executable, "-m", "analytics_service", "set-price", "--provider", provider]
    command += ["--model", model, "--valid-from", today, "--input", "1000", "--output", "2000"]
    done = subprocess.run(command, env={**os.environ, **stack.env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


class Person:
    """One browser context (its own cookies): a person at their own screen."""

    def __init__(
        self, browser: Browser, base_url: str, locale: str = "en-US", *, auditing: bool = False
    ) -> None:
        # An audit injects axe-core into the page, which the console's CSP would refuse.
        self.context: BrowserContext = browser.new_context(
            base_url=base_url, locale=locale, bypass_csp=auditing
        )
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)
        self.page.route("**/*", self._local_only)
        self.name = f"u{uuid.uuid4().hex[:10]}"

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium logs every 4xx answer; those are the API refusing (no session yet, a file
        # of no supported type), which the page shows and the tests check on screen.
        refused = message.text.startswith(
            "Failed to load resource: the server responded with a status of 4"
        )
        if message.type == "error" and not refused:
            self.errors.append(message.text)

    @staticmethod
    def _local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            route.abort("internetdisconnected")

    def register(self) -> None:
        page = self.page
        page.goto("/")
        page.get_by_role("button", name="No account yet? Create one").click()
        page.get_by_label("Email").fill(f"{self.name}@example.org")
        page.get_by_label("Username").fill(self.name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("navigation", name="Conversations")).to_be_visible()

    def api_user(self, http: httpx.Client) -> User:
        """The same person, as an API client (to set up what a test is not about)."""
        login = http.post("/v1/auth/login", json={"login": self.name, "password": PASSWORD})
        me = http.get("/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        return User(me.json()["id"], login.json()["access_token"])

    def log_in(self) -> None:
        page = self.page
        page.get_by_label("Email or username").fill(self.name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

    def ask(self, prompt: str, model: str = MODEL) -> list[str]:
        """Sends `prompt` to `model`; the streaming answer's text each time it grew."""
        page = self.page
        page.get_by_label("Model").select_option(model)
        page.get_by_label("Your message").fill(prompt)
        page.get_by_role("button", name="Send").click()
        streaming = page.locator("article[aria-busy='true'] p")
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if page.get_by_role("button", name="Send").count():
                break  # the answer is done: the stop button gave way to send again
            texts = streaming.all_text_contents()  # none once the answer settled
            text = texts[0] if texts else None
            if text and (not seen or text != seen[-1]):
                seen.append(text)
            time.sleep(0.02)
        failed = page.get_by_role("alert").filter(has_text="The answer failed")
        assert failed.count() == 0, failed.all_inner_texts()
        return seen

    def violations(self) -> list[str]:
        """What axe-core finds against WCAG 2.1 A and AA on the page as it is now."""
        self.page.add_script_tag(path=AXE)
        found = self.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
            ".then(r => r.violations.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' ')}`))",
            WCAG_21_AA,
        )
        return list(found)

    def close(self) -> None:
        self.context.close()


def test_a_person_streams_an_answer_and_finds_it_after_a_reload(
    stack: IngestionStack, browser: Browser
) -> None:
    ada = Person(browser, stack.base_url)
    try:
        ada.register()
        page = ada.page
        expect(page.get_by_label("Model")).to_contain_text(MODEL)

        grown = ada.ask("How does the outbox keep events?")
        conversations = page.get_by_role("navigation", name="Conversations")
        expect(conversations.get_by_role("listitem")).to_have_count(1)  # listed at once

        answer = page.locator("article.message.assistant").last
        expect(answer).to_contain_text("You asked: “How does the outbox keep events?”")
        final = answer.locator("p").inner_text()
        assert len(grown) >= 3, grown  # seen growing, not appearing whole
        assert all(final.startswith(part) for part in grown)
        assert [len(part) for part in grown] == sorted(len(part) for part in grown)

        page.reload()

        conversations = page.get_by_role("navigation", name="Conversations")
        expect(conversations.get_by_role("listitem")).to_have_count(1)
        conversations.get_by_role("listitem").first.get_by_role("button").click()
        messages = page.locator("section.messages article")
        expect(messages).to_have_count(2)
        expect(messages.first).to_contain_text("How does the outbox keep events?")
        expect(messages.last.locator(".markdown")).to_have_text(final)
        with httpx.Client(base_url=stack.base_url) as http:
            login = http.post("/v1/auth/login", json={"login": ada.name, "password": PASSWORD})
            token = login.json()["access_token"]
            [stored] = http.get(
                "/v1/conversations", headers={"Authorization": f"Bearer {token}"}
            ).json()["items"]
        assert stored["title"] is None or stored["title"] in conversations.inner_text()
        assert ada.errors == []
    finally:
        ada.close()


def test_another_person_sees_none_of_it(stack: IngestionStack, browser: Browser) -> None:
    """Bob, at his own screen, finds none of Ada's conversations, documents or usage: not in
    his lists, not by searching, not by opening her document's address."""
    ada, bob = Person(browser, stack.base_url), Person(browser, stack.base_url)
    try:
        ada.register()
        ada.ask("Something only Ada asked", PRICED)
        with stack.client() as http:
            user = ada.api_user(http)
            [document] = upload(http, user, [("ada-only.txt", b"Zanzibar ledgers of Ada.")])
            assert settled(http, user, document["document_id"])["status"] == "succeeded"
            deadline = time.monotonic() + 30
            while not http.get("/v1/usage", headers=user.headers).json()["rows"]:
                assert time.monotonic() < deadline, "Ada's usage is never recorded"
                time.sleep(0.3)
        bob.register()
        page = bob.page

        conversations = page.get_by_role("navigation", name="Conversations")
        expect(conversations.get_by_role("listitem")).to_have_count(0)
        expect(page.get_by_text("Ask anything to start a conversation.")).to_be_visible()
        page.get_by_role("link", name="Documents").click()
        expect(page.get_by_text("No documents yet.")).to_be_visible()
        page.get_by_role("link", name="Search").click()
        page.get_by_label("Search for").fill("Zanzibar ledgers")
        # By its words: the meaning side always finds something near (the global collection).
        page.get_by_label("Mode").select_option(label="Words (keyword)")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.get_by_text("Nothing found.")).to_be_visible()
        page.goto(f"/documents/{document['document_id']}")
        expect(page.get_by_role("alert")).to_contain_text("you have no document")
        expect(page.get_by_test_id("document-filename")).to_have_count(0)
        page.get_by_role("link", name="Usage").click()
        expect(page.get_by_text("No usage this month yet.")).to_be_visible()
        assert "Only Ada" not in page.content()
        assert "Zanzibar" not in page.content()
    finally:
        ada.close()
        bob.close()


def test_the_console_speaks_the_browsers_language_and_switches(
    stack: IngestionStack, browser: Browser
) -> None:
    maria = Person(browser, stack.base_url, locale="pt-BR")
    try:
        page = maria.page
        page.goto("/")
        expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
        expect(page.get_by_label("E-mail ou nome de usuário")).to_be_visible()
        assert page.locator("html").get_attribute("lang") == "pt-BR"

        page.get_by_label("Idioma").select_option("en")

        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        page.reload()  # the choice is kept
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        assert maria.errors == []
    finally:
        maria.close()


def test_the_console_is_served_with_a_strict_content_security_policy(
    stack: IngestionStack,
) -> None:
    with httpx.Client(base_url=stack.base_url) as http:
        index, route, api = http.get("/"), http.get("/chat/anything"), http.get("/v1/nothing")
    policy = index.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert route.status_code == 200
    assert route.text == index.text  # a console route is its page
    assert api.status_code == 404  # the API's paths are the API's
    assert api.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_every_page_has_no_wcag_violations(
    stack: IngestionStack, browser: Browser, locale: str
) -> None:
    person = Person(browser, stack.base_url, locale, auditing=True)
    try:
        person.page.goto("/")
        person.page.locator("form").wait_for()
        on_login = person.violations()
        person.page.get_by_role("button").last.click()  # to the registration form
        on_registration = person.violations()
        person.page.get_by_role("button").last.click()
        person.page.get_by_role("button").last.click()  # (the same switch, back and forth)
        person.page.goto("/")
        if locale != "en-US":
            person.page.locator("select").first.select_option("en")
        person.register()
        person.ask("An accessible answer, please")
        if locale != "en-US":
            person.page.locator("select").first.select_option("pt-BR")
            expect(person.page.get_by_role("button", name="Enviar")).to_be_visible()
        on_chat = person.violations()
        with stack.client() as http:  # a document in the library, and an administrator
            user = person.api_user(http)
            [document] = upload(http, user, [("audited.txt", b"Accessible for everyone.")])
            settled(http, user, document["document_id"])
            promoted = http.patch(
                f"/v1/admin/users/{user.user_id}",
                json={"is_admin": True},
                headers=log_in_admin(http, stack).headers,
            )
            assert promoted.status_code == 200, promoted.text
        pages = {}
        for path in (
            "/documents",
            f"/documents/{document['document_id']}?section=audited",
            "/search",
            "/keys",
            "/usage",
            "/settings",
            "/account",
            "/admin",
        ):
            person.page.goto(path)
            person.page.locator("main h1").wait_for()
            person.page.wait_for_load_state("networkidle")  # what the page asked the API
            pages[path] = person.violations()
    finally:
        person.close()
    assert (on_login, on_registration, on_chat) == ([], [], [])
    assert {path: found for path, found in pages.items() if found} == {}


def test_scripts_and_styles_go_out_gzipped_and_cached_for_good(stack: IngestionStack) -> None:
    assets = sorted((WEB / "dist" / "assets").glob("*.js")) + sorted(
        (WEB / "dist" / "assets").glob("*.css")
    )
    assert assets
    with httpx.Client(base_url=stack.base_url) as http:
        for asset in assets:
            path = f"/assets/{asset.name}"
            zipped = http.get(path, headers={"Accept-Encoding": "gzip"})
            plain = http.get(path, headers={"Accept-Encoding": "identity"})
            assert zipped.headers["content-encoding"] == "gzip"
            assert int(zipped.headers["content-length"]) < len(asset.read_bytes())
            assert zipped.content == plain.content == asset.read_bytes()  # httpx unzips
            assert "content-encoding" not in plain.headers
            assert zipped.headers["cache-control"] == "public, max-age=31536000, immutable"
            media = "text/javascript" if asset.suffix == ".js" else "text/css"
            assert zipped.headers["content-type"].startswith(media)


def test_an_answer_is_markdown_and_its_html_is_only_text(
    stack: IngestionStack, browser: Browser
) -> None:
    ada = Person(browser, stack.base_url)
    try:
        ada.register()
        ada.ask('**bold** <img src=x onerror="window.pwned=1"> <script>window.pwned=2</script>')

        answer = ada.page.locator("section.messages article.assistant").last
        expect(answer.locator("strong")).to_have_text("bold")
        expect(answer).to_contain_text('<img src=x onerror="window.pwned=1">')
        assert answer.locator("img, script").count() == 0
        assert ada.page.evaluate("() => window.pwned") is None
        assert ada.errors == []
    finally:
        ada.close()


def test_a_conversation_is_renamed_exported_and_deleted(
    stack: IngestionStack, browser: Browser
) -> None:
    ada = Person(browser, stack.base_url)
    try:
        ada.register()
        page = ada.page
        ada.ask("What changed in the release?")
        conversations = page.get_by_role("navigation", name="Conversations")

        page.get_by_role("button", name="Rename").click()
        page.get_by_label("New title").fill("Release notes")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(conversations.get_by_role("button", name="Release notes")).to_be_visible()

        with page.expect_download() as markdown:
            page.get_by_role("button", name="Markdown").click()
        exported = Path(markdown.value.path()).read_text()
        assert markdown.value.suggested_filename.endswith(".md")
        assert "What changed in the release?" in exported
        assert "You asked:" in exported
        with page.expect_download() as as_json:
            page.get_by_role("button", name="JSON").click()
        assert "Release notes" in Path(as_json.value.path()).read_text()

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete").click()
        expect(conversations.get_by_role("listitem")).to_have_count(0)
        page.reload()
        expect(conversations.get_by_role("listitem")).to_have_count(0)
    finally:
        ada.close()


def test_a_key_is_shown_once_works_and_is_revoked(stack: IngestionStack, browser: Browser) -> None:
    ada = Person(browser, stack.base_url)
    ada.context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        ada.register()
        page = ada.page
        page.get_by_role("link", name="API keys").click()
        page.get_by_label("Name").fill("deploy script")
        page.get_by_label("generate").check()
        page.get_by_role("button", name="Create key").click()

        key = page.get_by_test_id("new-key").inner_text()
        assert key.startswith("na_")
        page.get_by_role("button", name="Copy").click()
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        assert page.evaluate("() => navigator.clipboard.readText()") == key
        row = page.get_by_role("row", name="deploy script")
        expect(row).to_contain_text("generate")
        expect(row).to_contain_text("never")
        with httpx.Client(base_url=stack.base_url) as http:
            headers = {"Authorization": f"Bearer {key}"}
            assert http.get("/v1/models", headers=headers).status_code == 200

            page.reload()
            expect(page.get_by_role("row", name="deploy script")).to_be_visible()
            assert key not in page.content()  # shown once, never again
            page.get_by_role("button", name="Revoke deploy script").click()
            expect(page.get_by_role("row", name="deploy script")).to_contain_text("revoked")
            assert http.get("/v1/models", headers=headers).status_code == 401
    finally:
        ada.close()


def test_a_person_whose_session_ended_logs_in_and_is_back_where_they_were(
    stack: IngestionStack, browser: Browser
) -> None:
    ada = Person(browser, stack.base_url)
    try:
        ada.register()
        page = ada.page
        page.get_by_role("link", name="API keys").click()
        expect(page).to_have_url(f"{stack.base_url}/keys")

        ada.context.clear_cookies()  # the session is gone (expired, or revoked elsewhere)
        page.reload()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        ada.log_in()

        expect(page.get_by_role("heading", name="API keys")).to_be_visible()
        expect(page).to_have_url(f"{stack.base_url}/keys")
    finally:
        ada.close()


@pytest.mark.parametrize("screen", WIDTHS)
def test_screenshots_of_each_main_page(
    stack: IngestionStack, browser: Browser, screen: str
) -> None:
    """For people to look at: `.local/screenshots/<page>-<screen>.png`; none scrolls sideways."""
    ada = Person(browser, stack.base_url)
    ada.page.set_viewport_size(WIDTHS[screen])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots: dict[str, bytes] = {}
    wide: dict[str, list[str]] = {}

    def shoot(name: str) -> None:
        shots[name] = ada.page.screenshot(path=SCREENSHOTS / f"{name}-{screen}.png")
        wide[name] = wider_than_screen(ada.page)

    def visit(link: str, heading: str) -> None:
        ada.page.get_by_role("link", name=link).click()
        ada.page.get_by_role("heading", name=heading).wait_for()

    try:
        ada.page.goto("/")
        ada.page.locator("form").wait_for()
        shoot("login")
        ada.register()
        ada.ask("Summarise **what the outbox** guarantees, with `code`")
        listed = ada.page.get_by_role("navigation", name="Conversations").get_by_role("listitem")
        expect(listed).to_have_count(1)  # the new conversation, as soon as it is answered
        shoot("chat")
        visit("API keys", "API keys")
        shoot("keys")
        visit("Documents", "Documents")
        runbook: FilePayload = {"name": "runbook.md", "mimeType": "text/plain", "buffer": RUNBOOK}
        ada.page.get_by_label("Choose files").set_input_files(files=[runbook])
        uploaded = ada.page.locator("ul.uploads > li")
        expect(uploaded).to_contain_text("Indexed", timeout=60_000)
        expect(ada.page.get_by_role("region", name="Library").get_by_role("row")).to_have_count(2)
        shoot("documents")
        visit("Search", "Search your documents")
        ada.page.get_by_label("Search for").fill("how do I restart the broker")
        ada.page.get_by_role("button", name="Search", exact=True).click()
        expect(ada.page.locator("ol.hits > li").first).to_be_visible()
        shoot("search")
        visit("Usage", "Usage and cost")
        shoot("usage")
        visit("Settings", "Settings")
        shoot("settings")
        visit("Account", "Your account")
        shoot("account")
    finally:
        ada.close()
    for name, png in shots.items():
        assert png.startswith(b"\x89PNG"), name
        assert (SCREENSHOTS / f"{name}-{screen}.png").stat().st_size > 5_000  # not blank
    assert {name: found for name, found in wide.items() if found} == {}, "no page scrolls sideways"


# If the page scrolls sideways, the elements that make it: those reaching past the screen's
# right edge that are not inside something scrolling sideways on its own (a table on a phone).
WIDER_THAN_SCREEN = """() => {
  if (document.documentElement.scrollWidth <= window.innerWidth) return [];
  const scrollsOnItsOwn = e => e !== document.body && (
    getComputedStyle(e).overflowX !== "visible" || scrollsOnItsOwn(e.parentElement));
  return [...document.body.querySelectorAll("*")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth)
    .filter(e => !scrollsOnItsOwn(e.parentElement))
    .map(e => `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().right}`);
}"""


def wider_than_screen(page: Page) -> list[str]:
    """What a person would have to scroll sideways to read."""
    return cast(list[str], page.evaluate(WIDER_THAN_SCREEN))


# The files a person drags onto the page, as the browser hands them to the drop.
DATA_TRANSFER = """files => {
  const transfer = new DataTransfer();
  for (const [name, text] of Object.entries(files)) transfer.items.add(new File([text], name));
  return transfer;
}"""
# Every stage a document's track marks as current, as (filename, stage), seen as it happens.
RECORD_STAGES = """() => {
  window.stagesSeen = [];
  new MutationObserver(() => {
    for (const step of document.querySelectorAll("ol.stages li[aria-current=step]")) {
      const name = step.closest("li[data-status]").querySelector("strong").textContent;
      const stage = step.textContent.split(" ")[0];
      const last = window.stagesSeen.filter(([n]) => n === name).at(-1);
      if (!last || last[1] !== stage) window.stagesSeen.push([name, stage]);
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def test_documents_are_followed_to_indexed_and_kept_in_the_library(
    stack: IngestionStack, browser: Browser, tmp_path: Path
) -> None:
    files = {
        "notes.txt": b"The relay publishes the outbox in order, and the inbox drops duplicates.",
        "guide.md": b"# Guide\n\nRestart the broker; consumers take their partitions back.\n\n"
        + b"".join(  # long enough (some 250 chunks) to be seen under way
            b"Step %d: partition %d of topic t%d is taken back by consumer c%d.\n" % (i, i, i, i)
            for i in range(3000)
        ),
        "binary.bin": bytes(range(256)) * 4,  # no supported type: refused at upload
        "scanned.pdf": b"%PDF-1.4\n%%EOF\n",  # a PDF with no text: fails when parsed
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    ada = Person(browser, stack.base_url)
    try:
        ada.register()
        page = ada.page
        page.get_by_role("link", name="Documents").click()
        page.evaluate(RECORD_STAGES)
        dropped = {name: files[name].decode() for name in ("notes.txt", "guide.md")}
        transfer = page.evaluate_handle(DATA_TRANSFER, dropped)
        page.locator(".dropzone").dispatch_event("drop", {"dataTransfer": transfer})
        page.get_by_label("Choose files").set_input_files(
            [tmp_path / name for name in files if name not in dropped]
        )

        uploads = page.locator("ul.uploads > li")
        for name in ("notes.txt", "guide.md"):
            expect(uploads.filter(has_text=name)).to_contain_text("Indexed", timeout=60_000)
            track = page.get_by_role("list", name=f"Stages of {name}").get_by_role("listitem")
            expect(track).to_have_text(["parsing", "chunking", "embedding", "indexing"])
            assert [item.get_attribute("data-state") for item in track.all()] == ["done"] * 4
        seen = page.evaluate("window.stagesSeen")
        for name in ("notes.txt", "guide.md"):  # each stage marked current, in order
            current = [stage for filename, stage in seen if filename == name]
            assert current == sorted(set(current), key=current.index), current
            assert set(current) <= {"parsing", "chunking", "embedding", "indexing"}
        assert [stage for filename, stage in seen if filename == "guide.md"], "never under way"
        expect(uploads.filter(has_text="binary.bin")).to_contain_text(
            "Failed: files[0] (binary.bin): its bytes are not"
        )
        scanned = uploads.filter(has_text="scanned.pdf")
        expect(scanned).to_contain_text("Failed: ", timeout=60_000)
        reason = scanned.get_by_test_id("upload-status").inner_text().split("Failed: ", 1)[1]
        assert reason, "a failure says why"
        track = scanned.get_by_role("list", name="Stages of scanned.pdf").get_by_role("listitem")
        failed_at = [item.get_attribute("data-state") for item in track.all()]
        assert failed_at == ["failed", "pending", "pending", "pending"]  # where it stopped
        scanned.get_by_role("button", name="Retry").click()
        expect(scanned).not_to_contain_text("Failed", timeout=10_000)
        expect(scanned).to_contain_text(f"Failed: {reason}", timeout=60_000)

        library = page.get_by_role("region", name="Library")
        for name in ("notes.txt", "guide.md"):
            expect(library.get_by_role("row", name=name)).to_contain_text("Indexed")
        expect(library.get_by_role("row", name="scanned.pdf")).to_contain_text("Failed")
        assert library.get_by_role("row", name="binary.bin").count() == 0
        library.get_by_label("Status").select_option("failed")
        expect(library.get_by_role("row")).to_have_count(2)  # the header and scanned.pdf
        library.get_by_label("Status").select_option("")

        library.get_by_role("button", name="Edit guide.md").click()
        editing = library.get_by_role("form", name="Edit guide.md")
        editing.get_by_label("Metadata (a JSON object)").fill("[1, 2]")
        editing.get_by_role("button", name="Save").click()
        expect(editing.get_by_role("alert")).to_contain_text("must be a JSON object")
        editing.get_by_label("Metadata (a JSON object)").fill('{"team": "ops"}')
        editing.get_by_label("Collection").fill("archive")
        editing.get_by_role("button", name="Save").click()
        expect(library.get_by_role("row", name="guide.md")).to_contain_text("archive")
        library.get_by_label("Collection").fill("archive")
        expect(library.get_by_role("row")).to_have_count(2)  # the header and guide.md
        library.get_by_label("Collection").fill("")
        library.get_by_role("button", name="Edit guide.md").click()
        expect(editing.get_by_label("Metadata (a JSON object)")).to_have_value(
            re.compile(r'"team": "ops"')
        )
        editing.get_by_role("button", name="Cancel").click()

        library.get_by_role("button", name="Delete notes.txt").click()
        expect(library.get_by_role("row", name="notes.txt")).to_have_count(0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the deletion is done by ingestion, soon after
            page.reload()
            library.get_by_role("row", name="guide.md").wait_for()
            if library.get_by_role("row", name="notes.txt").count() == 0:
                break
        assert library.get_by_role("row", name="notes.txt").count() == 0
        assert ada.errors == []
    finally:
        ada.close()


def test_the_cost_of_each_answer_shows_in_the_month_the_charts_and_the_csv(
    stack: IngestionStack, browser: Browser
) -> None:
    ada = Person(browser, stack.base_url)
    try:
        ada.register()
        page = ada.page
        page.get_by_role("link", name="Usage").click()
        expect(page.get_by_text("No usage this month yet.")).to_be_visible()

        costs: list[float] = []
        for question in ("What does a save cost?", "And a second one?"):
            page.get_by_role("link", name="Chat").click()
            ada.ask(question, PRICED)
            page.get_by_role("link", name="Usage").click()
            spent = page.get_by_test_id("spent")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # analytics records it a moment later
                spent.wait_for()
                shown = spent.inner_text()
                if dollars(shown) > (costs[-1] if costs else 0):
                    break
                page.reload()
            costs.append(dollars(spent.inner_text()))
        assert 0 < costs[0] < costs[1], costs

        by_model = page.get_by_role("img", name="Cost by model")
        expect(by_model).to_have_attribute("aria-label", re.compile(re.escape(PRICED)))
        with httpx.Client(base_url=stack.base_url) as http:
            login = http.post("/v1/auth/login", json={"login": ada.name, "password": PASSWORD})
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            report = http.get("/v1/usage?group_by=day,provider,model", headers=headers).json()
        [row] = report["rows"]
        assert row["requests"] == 2
        assert dollars(f"${row['cost_usd']}") == pytest.approx(costs[1], abs=0.0001)
        table = page.get_by_role("region", name="By day and model")
        expect(table.get_by_role("row", name=PRICED)).to_contain_text("2")
        with page.expect_download() as csv:
            table.get_by_role("button", name="Download CSV").click()
        exported = Path(csv.value.path()).read_text()
        assert "priced-1" in exported
        assert csv.value.suggested_filename.endswith(".csv")

        english = re.search(r"\$(\d+\.\d+)", page.get_by_test_id("spent").inner_text())
        assert english, "the month's spending in dollars"
        page.get_by_label("Language").select_option("pt-BR")  # money and numbers as read there
        brazilian = re.escape(english.group(1).replace(".", ","))
        expect(page.get_by_test_id("spent")).to_contain_text(re.compile(rf"^US\$\s{brazilian} de "))
        expect(page.get_by_role("heading", name="Uso e custo")).to_be_visible()
        assert ada.errors == []
    finally:
        ada.close()


def dollars(shown: str) -> float:
    """The first dollar amount in `shown` ("$0.0712 of $50.00" is 0.0712)."""
    found = re.search(r"\$([\d,]+(?:\.\d+)?)", shown)
    assert found, shown
    return float(found.group(1).replace(",", ""))


def test_an_answer_is_saved_to_notion_and_its_page_linked(
    stack: IngestionStack, browser: Browser, notion: LocalNotion
) -> None:
    sync = start_notion_sync(notion, os.environ["CREDENTIALS_KEYS"])
    token, parent = new_token(), notion.fake.add_page()
    notion.fake.state.tokens.add(token)
    ada = Person(browser, stack.base_url)
    try:
        ada.register()
        page = ada.page
        page.get_by_role("link", name="Settings").click()
        status = page.get_by_test_id("notion-status")
        expect(status).to_have_text("Not connected")
        page.get_by_label("Integration token").fill(token)
        page.get_by_role("button", name="Connect").click()
        expect(status).to_have_text(re.compile(r"^Connected as "), timeout=20_000)
        assert token not in page.content()
        page.get_by_label("Default parent page or database id").fill(parent)
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("Saved")

        page.get_by_role("link", name="Chat").click()
        ada.ask("Keep this answer in Notion")
        answer = page.locator("section.messages article.assistant").last
        answer.get_by_role("button", name="Save to Notion").click()

        link = answer.get_by_role("link", name="Open in Notion")
        expect(link).to_be_visible(timeout=30_000)
        [saved] = notion.pages_of(token)
        assert link.get_attribute("href") == saved["url"]
        assert saved["parent"]["page_id"] == parent
        page.reload()  # an answer from the conversation's history is saved the same way
        page.get_by_role("navigation", name="Conversations").get_by_role("button").nth(1).click()
        expect(
            page.locator("section.messages article.assistant").last.get_by_role(
                "button", name="Save to Notion"
            )
        ).to_be_visible()
        assert ada.errors == []
    finally:
        ada.close()
        sync.stop()


RUNBOOK = (
    b"# Broker restarts\n\nWhen the broker restarts, consumers rejoin their group and take their "
    b"partitions back; lag grows for a minute and then falls.\n\n# Dead letters\n\nA record "
    b"that fails twice goes to the dead-letter topic with its reason, and never blocks its "
    b"partition."
)


def test_a_grounded_answer_cites_its_sources_and_search_marks_its_matches(
    stack: IngestionStack, browser: Browser
) -> None:
    ada = Person(browser, stack.base_url)
    try:
        ada.register()
        page = ada.page
        with stack.client() as http:
            user = ada.api_user(http)
            [document] = upload(http, user, [("runbook.md", RUNBOOK)], collection="ops")
            assert settled(http, user, document["document_id"])["status"] == "succeeded"

        page.get_by_label("Use my documents").check()
        page.get_by_label("Collections (comma-separated; empty: all)").fill("ops")
        ada.ask("What happens to a record that fails twice?")

        sources = page.locator("section.messages article.assistant").last.get_by_role(
            "region", name="Sources"
        )
        first = sources.get_by_role("link").first
        expect(first).to_be_visible()
        expect(sources.get_by_role("listitem").first).to_contain_text("· runbook.md")  # its file
        first.click()
        expect(page.get_by_test_id("document-filename")).to_have_text("runbook.md")
        expect(page.get_by_test_id("document-section")).not_to_be_empty()

        page.get_by_role("link", name="Search").click()
        for mode in ("Hybrid", "Meaning (vector)", "Words (keyword)"):
            page.get_by_label("Search for").fill("dead letter topic")
            page.get_by_label("Mode").select_option(label=mode)
            page.get_by_role("button", name="Search", exact=True).click()
            hits = page.locator("ol.hits > li")
            expect(hits.first).to_be_visible()
            if mode != "Meaning (vector)":  # a vector hit has no words to mark
                expect(hits.first.locator("mark").first).to_be_visible()
        hits.first.get_by_role("link").click()
        expect(page.get_by_test_id("document-filename")).to_have_text("runbook.md")
        assert ada.errors == []
    finally:
        ada.close()


def test_an_administrator_changes_a_plan_and_nobody_else_sees_the_page(
    stack: IngestionStack, browser: Browser
) -> None:
    ada, bob = Person(browser, stack.base_url), Person(browser, stack.base_url)
    try:
        ada.register()
        bob.register()
        with stack.client() as http:
            admin = log_in_admin(http, stack)
            ada_id = ada.api_user(http).user_id
            promoted = http.patch(
                f"/v1/admin/users/{ada_id}", json={"is_admin": True}, headers=admin.headers
            )
            assert promoted.status_code == 200, promoted.text
        expect(bob.page.get_by_role("link", name="Administration")).to_have_count(0)
        bob.page.goto("/admin")
        expect(bob.page.get_by_role("heading", name="Administration")).to_have_count(0)

        page = ada.page
        page.reload()
        page.get_by_role("link", name="Administration").click()
        plan = listed_user(page, bob.name).get_by_label(f"Plan {bob.name}")
        expect(plan.locator("option")).to_have_text(["Solo", "Team", "Enterprise"])
        plan.select_option("team")
        expect(page.get_by_role("status")).to_have_text(f"Saved: {bob.name}")

        with stack.client() as http:
            bobs = bob.api_user(http)
            me = http.get("/v1/me", headers=bobs.headers).json()
        assert me["plan_tier"] == "team"

        model = f"added-{uuid.uuid4().hex[:6]}"
        catalogue = page.get_by_role("region", name="Model catalogue")
        catalogue.get_by_label("Provider").fill(PRICED.split("/")[0])
        catalogue.get_by_label("Model", exact=True).fill(model)
        catalogue.get_by_label("Input, USD per million tokens").fill("3")
        catalogue.get_by_label("Output, USD per million tokens").fill("6")
        catalogue.get_by_role("button", name="Save model").click()
        # Saved by generation, which owns the catalogue: a request and reply over Kafka.
        expect(catalogue.get_by_role("status")).to_have_text(
            f"Saved: {PRICED.split('/')[0]}/{model}", timeout=20_000
        )
        row = catalogue.get_by_role("row", name=re.compile(model))
        expect(row).to_contain_text("$3.00")
        expect(row).to_contain_text("$6.00")
        deadline = time.monotonic() + 20
        while True:  # everyone is offered it, once the gateways' catalogue is read again
            bob.page.goto("/")
            expect(bob.page.get_by_label("Model")).to_contain_text(MODEL)
            if model in bob.page.get_by_label("Model").inner_text():
                break
            assert time.monotonic() < deadline, "the new model is never offered"
            time.sleep(1)
        bob.page.get_by_label("Model").select_option(f"{PRICED.split('/')[0]}/{model}")
        expect(bob.page.get_by_text("$3.00 in / $6.00 out per million tokens")).to_be_visible()

        poison = f"not an event {uuid.uuid4()}".encode()
        # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
        with ThreadPoolExecutor(1) as pool:
            bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
            # A topic of analytics' that no other test reads from its start.
            pool.submit(asyncio.run, publish(bootstrap, "account.plan_changed", poison)).result()
        with stack.client() as http:
            where = dead_lettered(http, admin, poison, count=1)[0]
        letters = page.get_by_role("region", name="Dead letters")
        letters.get_by_label("Service").select_option("analytics")
        letters.get_by_role("button", name="Refresh").click()
        letters.get_by_role("button", name=f"Show {where}").click()
        expect(letters.get_by_test_id("dead-letter-value")).to_have_text(poison.decode())
        letters.get_by_label(f"Choose {where}").check()
        letters.get_by_role("button", name="Re-drive 1 chosen").click()
        expect(letters.get_by_role("status")).to_have_text("1 re-driven")
        with stack.client() as http:  # back on its topic, it fails again and is set aside again
            dead_lettered(http, admin, poison, count=2)
            unknown = http.get("/v1/admin/dead-letters/nobody", headers=admin.headers)
            assert unknown.status_code == 422
            assert "analytics" in unknown.json()["detail"]  # says which services there are
            refused = http.get(
                "/v1/admin/dead-letters/analytics", headers=bob.api_user(http).headers
            )
            assert refused.status_code == 403
        assert ada.errors == []
    finally:
        ada.close()
        bob.close()


def listed_user(page: Page, username: str, more: str = "More") -> Locator:
    """The administration page's row of `username`, after as many "More" as it takes."""
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=username, exact=True))
    rows = page.locator("tbody tr")
    expect(rows.first).to_be_visible()
    while row.count() == 0:  # oldest first: the newest users are on the last page
        shown = rows.count()
        page.get_by_role("button", name=more).click()
        expect(rows).not_to_have_count(shown)
    return row


def test_a_person_deactivates_their_account_and_an_administrator_activates_it(
    stack: IngestionStack, browser: Browser
) -> None:
    ada, root = Person(browser, stack.base_url), Person(browser, stack.base_url, "pt-BR")
    try:
        ada.register()
        page = ada.page
        page.get_by_role("link", name="Account").click()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Deactivate account").click()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        ada.log_in()
        expect(page.get_by_role("alert")).to_have_text(
            "this account is deactivated; contact an administrator"
        )

        root.page.goto("/")
        root.page.get_by_label("Idioma").select_option("en")
        root.register()
        with stack.client() as http:
            promoted = http.patch(
                f"/v1/admin/users/{root.api_user(http).user_id}",
                json={"is_admin": True},
                headers=log_in_admin(http, stack).headers,
            )
            assert promoted.status_code == 200, promoted.text
        root.page.reload()
        root.page.get_by_label("Language").select_option("pt-BR")  # an administrator in pt-BR
        root.page.get_by_role("link", name="Administração").click()
        active = listed_user(root.page, ada.name, "Mais").get_by_label(f"Ativo {ada.name}")
        expect(active).not_to_be_checked()
        active.click()  # (checked once the API says so)
        expect(root.page.get_by_role("status")).to_have_text(f"Salvo: {ada.name}")
        expect(active).to_be_checked()

        ada.log_in()
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()  # back there
        assert ada.errors == []
        assert root.errors == []
    finally:
        ada.close()
        root.close()


def log_in_admin(http: httpx.Client, stack: IngestionStack) -> User:
    """The stack's first administrator (registered when the stack came up)."""
    name = ADMINS[stack.admin_email]
    login = http.post("/v1/auth/login", json={"login": name, "password": PASSWORD})
    assert login.status_code == 200, login.text
    me = http.get("/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    return User(me.json()["id"], login.json()["access_token"])


def test_a_person_changes_their_password_then_deletes_their_account(
    stack: IngestionStack, browser: Browser
) -> None:
    ada = Person(browser, stack.base_url)
    new_password = "Another-Horse-43"
    try:
        ada.register()
        page = ada.page
        page.get_by_role("link", name="Account").click()
        page.get_by_label("Current password").fill("not the password")
        page.get_by_label("New password").fill(new_password)
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("alert")).to_contain_text("password")  # the API's own detail

        page.get_by_label("Current password").fill(PASSWORD)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        ada.log_in()  # the old password
        expect(page.get_by_role("alert")).to_have_text("wrong login or password")
        page.get_by_label("Password").fill(new_password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()

        page.get_by_label("Password", exact=True).fill(new_password)
        page.get_by_role("button", name="Delete account and all its data").click()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        page.get_by_label("Email or username").fill(ada.name)
        page.get_by_label("Password").fill(new_password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text("wrong login or password")
    finally:
        ada.close()


def test_an_answer_is_stopped_mid_stream_copied_and_asked_again(
    stack: IngestionStack, browser: Browser
) -> None:
    ada = Person(browser, stack.base_url)
    ada.context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        ada.register()
        page = ada.page
        page.get_by_label("Model").select_option(MODEL)
        page.get_by_label("Your message").fill("Tell me about partitions")
        page.get_by_role("button", name="Send").click()
        expect(page.locator("article[aria-busy='true']")).to_contain_text("mock answer")
        page.get_by_role("button", name="Stop").click()

        expect(page.get_by_role("alert")).to_have_text("Stopped.")
        stopped = page.locator("section.messages article.assistant").last.inner_text()
        with stack.client() as http:
            user = ada.api_user(http)
            deadline = time.monotonic() + 20
            while True:  # the gateway saw the connection close and cancelled the generation
                [request] = http.get("/v1/requests", headers=user.headers).json()["items"]
                if request["status"] == "failed" or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
        assert request["detail"]["error"]["class"] == "cancelled", request

        answer = page.locator("section.messages article.assistant").last
        assert answer.get_by_role("button", name="Save to Notion").count() == 0  # unfinished
        answer.get_by_role("button", name="Copy").click()
        expect(answer.get_by_role("button", name="Copied")).to_be_visible()
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied
        assert copied in stopped
        answer.get_by_role("button", name="Retry").click()
        expect(page.locator("section.messages article.user")).to_have_count(2)
        expect(page.get_by_role("button", name="Send")).to_be_visible(timeout=30_000)
        assert page.get_by_role("alert").all_inner_texts() == []
        expect(page.locator("section.messages article.assistant")).to_have_count(2)
        again = page.locator("section.messages article.assistant").last
        expect(again).to_contain_text("You asked: “Tell me about partitions”.")
    finally:
        ada.close()


def test_a_provider_key_is_set_replaced_and_deleted_shown_only_masked(
    stack: IngestionStack, browser: Browser
) -> None:
    ada = Person(browser, stack.base_url)
    first, second = "sk-console-" + "a" * 20 + "1234", "sk-console-" + "b" * 20 + "9876"
    try:
        ada.register()
        page = ada.page
        page.get_by_role("link", name="Settings").click()
        keys = page.get_by_role("region", name="Provider keys")
        expect(keys.get_by_text("No provider keys.")).to_be_visible()
        for key, last in ((first, "1234"), (second, "9876")):
            keys.get_by_label("Provider").fill("openai")
            keys.get_by_label("API key").fill(key)
            keys.get_by_role("button", name="Save key").click()
            row = keys.get_by_role("row", name=re.compile("^openai"))
            expect(row).to_contain_text(last)
            expect(keys.get_by_role("row")).to_have_count(2)  # replaced, not added
            assert key not in page.content()
        keys.get_by_role("button", name="Delete openai").click()
        expect(keys.get_by_text("No provider keys.")).to_be_visible()
        assert ada.errors == []
    finally:
        ada.close()


def test_older_conversations_come_a_page_at_a_time(stack: IngestionStack, browser: Browser) -> None:
    ada = Person(browser, stack.base_url)
    try:
        ada.register()
        with stack.client() as http:
            user = ada.api_user(http)
            body = {"prompt": "one of many", "model": "mock-1", "max_tokens": 1}
            for _ in range(31):
                answered = http.post(
                    "/v1/generations", json=body, headers={**user.headers, "Prefer": "wait=30"}
                )
                assert answered.status_code == 200, answered.text
        page = ada.page
        page.reload()
        listed = page.get_by_role("navigation", name="Conversations").get_by_role("listitem")
        expect(listed).to_have_count(30)
        page.get_by_role("button", name="Older conversations").click()
        expect(listed).to_have_count(31)
        expect(page.get_by_role("button", name="Older conversations")).to_have_count(0)
    finally:
        ada.close()


async def publish(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=uuid.uuid4().bytes)
    finally:
        await producer.stop()


def dead_lettered(http: httpx.Client, admin: User, value: bytes, count: int) -> list[str]:
    """Where analytics' dead letters holding `value` are (`partition:offset`), once `count`."""
    deadline = time.monotonic() + 60
    while True:
        listed = http.get("/v1/admin/dead-letters/analytics", headers=admin.headers)
        assert listed.status_code == 200, listed.text
        found = [
            f"{letter['partition']}:{letter['offset']}"
            for letter in listed.json()
            if letter["value"] == value.decode()
        ]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} of {count} dead letters"
        time.sleep(0.5)
