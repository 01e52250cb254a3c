"""The offline lesson pages, opened in a real headless Chromium with the network off.

Two real lessons are executed (lessons 1 and 4: mathematics, figures and
exercises), rendered for both audiences by :mod:`kplearn.pages`, and each page
is loaded in Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by
Selenium). Every request except ``file://`` goes to a closed proxy, so a page
that needed the network would show raw LaTeX or broken figures.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from kplearn.lessons import find_lessons, run_lesson, select_lessons
from kplearn.pages import write_site

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
LESSONS = ("01", "04")


def _browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        # The network off: every non-file request goes to a closed port.
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--allow-file-access-from-files",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """Lessons 1 and 4 executed once, rendered for the instructor and for students."""
    root = tmp_path_factory.mktemp("pages")
    instructor, student = root / "instructor", root / "student"
    lessons = select_lessons(find_lessons(), LESSONS)
    for lesson in lessons:
        run_lesson(lesson, instructor, timeout=600)
    write_site(instructor)
    student.mkdir()
    for path in instructor.glob("*.ipynb"):
        shutil.copy(path, student / path.name)
    write_site(student, audience="student")
    return {"instructor": instructor, "student": student, "lessons": lessons}


@pytest.fixture(scope="module")
def browser():
    driver = _browser()
    yield driver
    driver.quit()


def _load(driver, page: Path) -> None:
    driver.get(page.as_uri())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = driver.execute_script(
            "return document.readyState === 'complete' && (!window.MathJax || "
            "(MathJax.Hub && MathJax.Hub.queue && MathJax.Hub.queue.pending === 0 "
            "&& !MathJax.Hub.queue.running));"
        )
        if done:
            return
        time.sleep(0.2)
    raise AssertionError(f"{page.name}: MathJax did not finish typesetting within 60 s")


def _pages(site: Path) -> list[Path]:
    return sorted(site.glob("[0-9][0-9]_*.html"))


@pytest.mark.parametrize("audience", ["instructor", "student"])
def test_pages_render_offline(sites, browser, audience):
    site = sites[audience]
    pages = _pages(site)
    assert [p.stem[:2] for p in pages] == list(LESSONS)
    typeset_total = 0
    for page in pages:
        _load(browser, page)
        # Every resource the page fetched came from disk.
        fetched = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name);"
        )
        remote = [url for url in fetched if not url.startswith(("file:", "data:"))]
        assert not remote, f"{page.name} fetched {remote}"
        # Formulas are typeset by MathJax (each TeX source became rendered math), none failed.
        formulas, rendered = browser.execute_script(
            "return [document.querySelectorAll('script[type^=\"math/tex\"]').length,"
            " document.querySelectorAll('span.MathJax').length];"
        )
        assert formulas == rendered, f"{page.name}: {rendered} of {formulas} formulas rendered"
        typeset_total += rendered
        errors = browser.execute_script(
            "return document.querySelectorAll('.MathJax_Error, merror').length;"
        )
        assert errors == 0, f"{page.name}: {errors} MathJax errors"
        assert "Math Processing Error" not in browser.page_source
        # Every figure loaded.
        figures = browser.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
        )
        assert len(figures) >= 3, f"{page.name}: {len(figures)} figures"
        assert all(ok and width > 0 for ok, width in figures), f"{page.name}: a figure failed"
        # The title names the lesson; grading plumbing is not shown.
        assert browser.title.startswith(f"Lesson {int(page.stem[:2])}")
        text = browser.find_element("tag name", "body").text
        for plumbing in ("NBVAL_CHECK_OUTPUT", "BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert plumbing not in text, f"{page.name} shows {plumbing}"
    assert typeset_total >= 2, f"only {typeset_total} formulas typeset in lessons {LESSONS}"


def _local_links(driver) -> list[str]:
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"
    )
    return [h for h in hrefs if h.startswith("file:")]


@pytest.mark.parametrize("audience", ["instructor", "student"])
def test_every_link_resolves(sites, browser, audience):
    site = sites[audience]
    pages = [site / "index.html", *_pages(site)]
    seen_targets = set()
    for page in pages:
        _load(browser, page)
        for href in _local_links(browser):
            url = urlparse(href)
            target = Path(unquote(url.path))
            assert target.is_file(), f"{page.name} links to missing {target}"
            seen_targets.add(target.name)
            if url.fragment and target == page:
                # Browsers look the fragment up as written and percent-decoded.
                found = browser.execute_script(
                    "return document.getElementById(arguments[0]) !== null"
                    " || document.getElementById(arguments[1]) !== null;",
                    url.fragment,
                    unquote(url.fragment),
                )
                assert found, f"{page.name}: anchor #{url.fragment} not on the page"
    # The index links every lesson; each lesson page links the index and its neighbour.
    assert {"index.html", "01_keypoints_and_data.html", "04_measuring_accuracy.html"} <= seen_targets
    _load(browser, site / "01_keypoints_and_data.html")
    assert any(h.endswith("04_measuring_accuracy.html") for h in _local_links(browser))


def test_student_pages_hide_solutions(sites, browser):
    """A solution body of the instructor notebook appears on no student page."""
    from kplearn.assignments.markup import parse_assignment, read_notebook

    for lesson in sites["lessons"]:
        assignment = parse_assignment(read_notebook(lesson.path), name=lesson.path.stem)
        nb = assignment.nb
        bodies = []
        for solution in assignment.solutions:
            source = nb.cells[solution.index].source.splitlines()
            for region in solution.regions:
                body = [s.strip() for s in source[region.begin + 1 : region.end]]
                bodies.extend(line for line in body if len(line) > 12 and not line.startswith("#"))
        assert bodies, f"{lesson.path.name} has no solution lines to check"
        page = sites["student"] / lesson.path.with_suffix(".html").name
        _load(browser, page)
        text = browser.find_element("tag name", "body").text
        shown = [line for line in bodies if line in text]
        assert not shown, f"{page.name} shows solution lines {shown[:3]}"
        assert "YOUR CODE HERE" in text or "NotImplementedError" in text
        # The instructor page does show them, so the check can fail.
        _load(browser, sites["instructor"] / page.name)
        instructor_text = browser.find_element("tag name", "body").text
        assert any(line in instructor_text for line in bodies)
