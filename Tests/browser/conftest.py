"""Fixtures of the browser tests: one Chromium (Debian's, never Playwright's download) for the run, and
browser contexts (each its own cookie jar) that are closed after each test."""
import pytest
from playwright.sync_api import sync_playwright

from console import BASE, CHROMIUM, OUT


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, request):
    """Opens browser contexts (each its own cookie jar) and closes them after the test; a failed test
    leaves a screenshot of every open page in .build/browser-tests/."""
    contexts = []

    def make(**options):
        options.setdefault("base_url", BASE)
        if "Accept-Language" not in options.get("extra_http_headers", {}):
            options.setdefault("locale", "en-US")  # else Chromium's locale would replace the header
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    failed = getattr(request.node, "failed_call", False)
    for number, context in enumerate(contexts):
        if failed:
            for index, page in enumerate(context.pages):
                try:
                    OUT.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(OUT / f"{request.node.name}-{number}-{index}.png"), full_page=True)
                except Exception:
                    pass
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True
    return report


@pytest.fixture
def page(new_context):
    return new_context().new_page()
