"""A real headless Chromium (Debian's chromium + chromedriver, driven by selenium) and what a person sees on the
validator's /dashboard: the leaderboard rows, and for each chart the data points and the pixels painted."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--window-size=1400,1100")
CHARTS = ("emissions-chart", "accepted-chart", "rejections-chart")
LOAD_SECONDS = 60  # the page's first fetch and draw; bounded so a broken page fails instead of hanging


def browser_paths() -> tuple[str, str] | None:
    """(chromium, chromedriver) from PATH (installed by scripts/system-deps, which make test runs), or None."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@contextmanager
def headless_chromium() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = browser_paths()
    options = Options()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    # An explicit driver path: selenium never tries to download one (there is no internet here).
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass(frozen=True)
class ChartView:
    points: int  # data points above zero across the chart's datasets
    painted: int  # canvas pixels that are not transparent
    empty_note_visible: bool  # the "nothing yet" line under the chart
    drawn_rises_only: bool  # every line, as drawn between its points, never goes down on screen


@dataclass(frozen=True)
class DashboardView:
    status: str
    columns: list[str]  # the leaderboard's column headings
    rows: list[dict]  # leaderboard rows: {"uid": "0", "cells": [...]} in table order
    charts: dict[str, ChartView]


_MEASURE = """
const out = {};
for (const id of arguments[0]) {
  const canvas = document.getElementById(id);
  const chart = Chart.getChart(canvas);
  const points = chart ? chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v > 0).length, 0) : 0;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  const note = document.getElementById(id.replace("-chart", "-empty"));
  // On screen y grows downwards: the curve never goes down when, walking it, y never grows. Each segment is the cubic
  // Bezier Chart.js draws (control points are the points themselves where it draws straight lines), walked in small
  // steps: its control points alone may step back while the curve rises (monotone interpolation does that).
  let rises = true;
  if (chart && chart.config.type === "line") {
    chart.data.datasets.forEach((d, i) => {
      const drawn = chart.getDatasetMeta(i).data;
      let last = Infinity;
      for (let k = 1; k < drawn.length; k++) {
        const [a, b] = [drawn[k - 1], drawn[k]];
        const [y0, y1, y2, y3] = [a.y, a.cp2y ?? a.y, b.cp1y ?? b.y, b.y];
        for (let t = 0; t <= 1; t += 1 / 32) {
          const u = 1 - t;
          const y = u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3;
          if (y > last + 0.5) rises = false;
          last = Math.min(last, y);
        }
      }
    });
  }
  out[id] = {points: points, painted: painted, empty_note_visible: note.offsetParent !== null,
             drawn_rises_only: rises};
}
return out;
"""


def view_dashboard(driver, url: str, *, miners: int, screenshot: Path | None = None) -> DashboardView:
    """Open the page, wait until it has drawn `miners` leaderboard rows, and read what it shows."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, LOAD_SECONDS, poll_frequency=0.5).until(
        lambda d: d.find_element(By.ID, "status").text.startswith("updated")
        and len(d.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")) >= miners)
    # The page replaces its rows on every refresh: a read that meets a replaced row starts again.
    rows = WebDriverWait(driver, LOAD_SECONDS, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,)).until(_leaderboard_rows)
    charts = {k: ChartView(**v) for k, v in driver.execute_script(_MEASURE, list(CHARTS)).items()}
    if screenshot is not None:
        driver.save_screenshot(str(screenshot))
    columns = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#leaderboard thead th")]
    return DashboardView(status=driver.find_element(By.ID, "status").text, columns=columns, rows=rows, charts=charts)


def _leaderboard_rows(driver) -> list[dict]:
    """The leaderboard rows as shown: {"uid": "0", "cells": [...]} in table order."""
    from selenium.webdriver.common.by import By

    return [{"uid": tr.get_attribute("data-uid"), "cells": [td.text for td in tr.find_elements(By.TAG_NAME, "td")]}
            for tr in driver.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")]
