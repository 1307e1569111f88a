"""Debian's Chromium, headless, in a phone-sized window, driven by selenium: the fixture
and the checks every page a person sees gets (a heading, no sideways scrolling, no
script), with a screenshot of each page saved to test-screenshots/ (ignored by git)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SHOTS = Path(__file__).resolve().parents[1] / "test-screenshots"
PHONE = (390, 844)  # CSS pixels of a current phone
INSTALL = (
    "the browser tests need Debian's Chromium and its driver: "
    "apt-get install -y chromium chromium-driver"
)


def need_chromium(chromium: str = CHROMIUM, driver: str = DRIVER) -> None:
    """Chromium and its driver, or a failure on CI (never a silent skip there) and a
    skip elsewhere, each saying what to install."""
    if not (os.access(chromium, os.X_OK) and shutil.which(driver)):
        if os.environ.get("CI"):
            pytest.fail(INSTALL)
        pytest.skip(INSTALL)


@pytest.fixture
def browser() -> Iterator[object]:
    need_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    width, height = PHONE
    options.add_experimental_option(
        "mobileEmulation",
        {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0},
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36"
            " (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
        },
    )
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


class Phone:
    """The browser, with the checks every page gets and a screenshot of each."""

    def __init__(self, driver: object, prefix: str) -> None:
        self.d = driver
        self.prefix = prefix
        self.count = 0
        SHOTS.mkdir(exist_ok=True)

    def page(self, name: str, title: str) -> str:
        from selenium.webdriver.common.by import By

        d = self.d
        heading = d.find_element(By.TAG_NAME, "h1").text  # type: ignore[attr-defined]
        assert heading == title, (name, heading)
        wide = d.execute_script("return document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        assert wide <= PHONE[0], f"{name}: {wide}px wide, the phone scrolls sideways"
        assert not d.find_elements(By.TAG_NAME, "script")  # type: ignore[attr-defined]
        self.count += 1
        d.save_screenshot(str(SHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"))  # type: ignore[attr-defined]
        return str(d.find_element(By.TAG_NAME, "body").text)  # type: ignore[attr-defined]

    def click(self, label: str, session_id: int | None = None) -> None:
        from selenium.webdriver.common.by import By

        scope = f"//div[@id='s{session_id}']" if session_id else ""
        path = f"{scope}//button[normalize-space()='{label}']"
        self.follow(self.d.find_element(By.XPATH, path))  # type: ignore[attr-defined]

    def follow(self, element: object) -> None:
        """Click and wait for the next page (a form POST or a link): the old page's window
        carries a mark the new one lacks. (Waiting for the old <html> to go stale races
        with Chromium: asked mid-navigation it answers "Node with given id does not
        belong to the document".)"""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.wait import WebDriverWait

        self.d.execute_script("window.calbridgeOldPage = true")  # type: ignore[attr-defined]
        element.click()  # type: ignore[attr-defined]
        arrived = "return !window.calbridgeOldPage && document.readyState === 'complete'"
        WebDriverWait(self.d, 15, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script(arrived)
        )

    def back(self) -> None:
        from selenium.webdriver.common.by import By

        self.follow(self.d.find_element(By.LINK_TEXT, "Back to your sessions"))  # type: ignore[attr-defined]
