"""A reader in headless Chromium: open a page, switch language, see a gallery figure, search,
read a formula; and no page logs a JavaScript error.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them).  The
site is served from ``build/html`` on 127.0.0.1 only, so nothing can come from a CDN.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


@pytest.fixture(scope="module")
def site_url(html_root: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(html_root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("chromium and chromedriver are required: run `make browser` "
                    "(Debian packages chromium chromium-driver)", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console messages
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_window_size(1400, 1000)  # wide enough for the full navbar
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait_for_path(browser, suffix: str) -> None:
    WebDriverWait(browser, 10).until(lambda b: b.current_url.split("?")[0].endswith(suffix))


def test_switcher_opens_the_same_page_in_chinese_and_back(browser, site_url):
    page = "docs/auto_gallery/concepts/plot_number_formats.html"
    browser.get(f"{site_url}/en/{page}")
    assert "Number formats" in browser.find_element(By.TAG_NAME, "h1").text
    switch = next(a for a in browser.find_elements(By.CSS_SELECTOR, "a.lang-switch") if a.is_displayed())
    switch.click()
    _wait_for_path(browser, f"/zh_CN/{page}")
    assert "数值格式" in browser.find_element(By.TAG_NAME, "h1").text
    switch = next(a for a in browser.find_elements(By.CSS_SELECTOR, "a.lang-switch") if a.is_displayed())
    assert switch.text == "English"
    switch.click()
    _wait_for_path(browser, f"/en/{page}")


def test_gallery_figure_loads(browser, site_url):
    browser.get(f"{site_url}/zh_CN/docs/auto_gallery/concepts/plot_number_formats.html")
    images = browser.find_elements(By.CSS_SELECTOR, "img.sphx-glr-single-img")
    assert images, "no gallery figure on the page"
    loaded = browser.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth", images[0])
    assert loaded and loaded > 100, "the gallery figure did not load"


def test_root_page_sends_the_reader_to_a_language(browser, site_url):
    browser.get(f"{site_url}/index.html")
    WebDriverWait(browser, 10).until(lambda b: "/docs/index.html" in b.current_url)
    assert "/en/docs/index.html" in browser.current_url or "/zh_CN/docs/index.html" in browser.current_url


GALLERY_PAGE = "docs/auto_gallery/concepts/plot_quantization_math.html"  # figures and formulas


def _console_errors(browser) -> list[str]:
    """Console errors since the last call (reading the log empties it)."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def _search(browser, site_url: str, language: str, query: str) -> list[str]:
    """Titles of the pages that the site's search page lists for ``query``."""
    browser.get(f"{site_url}/{language}/search.html?q={query}")
    results = "#search-results ul.search li"
    try:
        WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, results))
    except TimeoutException:
        status = browser.find_element(By.ID, "search-results").text[:200]
        pytest.fail(f"{language}: searching {query!r} listed nothing: {status!r}; "
                    f"console: {_console_errors(browser)}", pytrace=False)
    return [li.find_element(By.TAG_NAME, "a").text for li in browser.find_elements(By.CSS_SELECTOR, results)]


@pytest.mark.parametrize(("language", "query", "expected"), [
    ("zh_CN", "量化", "量化感知训练"),
    ("zh_CN", "校准", "校准"),
    ("en", "calibration", "Calibration"),
])
def test_search_lists_pages(browser, site_url, language, query, expected):
    titles = _search(browser, site_url, language, query)
    assert len(titles) >= 3, f"{language}: {query!r} found only {titles}"
    assert any(expected in title for title in titles), f"{language}: {query!r} found {titles}"


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("page", ["docs/index.html", GALLERY_PAGE, "search.html?q=INT8"])
def test_pages_log_no_javascript_errors(browser, site_url, language, page):
    _console_errors(browser)  # forget the previous page's messages
    browser.get(f"{site_url}/{language}/{page}")
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return document.readyState") == "complete")
    if page.startswith("search.html"):
        WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#search-results ul.search li"))
    errors = _console_errors(browser)
    assert not errors, f"{language}/{page}: JavaScript console errors: {json.dumps(errors, ensure_ascii=False)}"


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_formulas_are_typeset_offline(browser, site_url, language):
    """MathJax comes from the site itself (the test server is all the browser can reach)."""
    browser.get(f"{site_url}/{language}/{GALLERY_PAGE}")
    try:
        WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "mjx-container"))
    except TimeoutException:
        pytest.fail(f"{language}: MathJax typeset no formula; console: {_console_errors(browser)}", pytrace=False)
    raw = browser.find_element(By.TAG_NAME, "article").text
    assert "\\mathrm" not in raw, "a formula is still shown as TeX source"
