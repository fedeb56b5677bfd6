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
    drawn_rises_only: bool  # every line (points and the curve between them) never goes down on screen


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
  // On screen y grows downwards: a curve that never goes down has every point and Bezier control point at or above
  // (y <=) the one before it; control points are the point itself where Chart.js draws straight segments.
  let rises = true;
  if (chart && chart.config.type === "line") {
    chart.data.datasets.forEach((d, i) => {
      let last = Infinity;
      for (const p of chart.getDatasetMeta(i).data) {
        for (const y of [p.cp1y ?? p.y, p.y, p.cp2y ?? p.y]) {
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
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, LOAD_SECONDS, poll_frequency=0.5).until(
        lambda d: d.find_element(By.ID, "status").text.startswith("updated")
        and len(d.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")) >= miners)
    rows = [{"uid": tr.get_attribute("data-uid"), "cells": [td.text for td in tr.find_elements(By.TAG_NAME, "td")]}
            for tr in driver.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")]
    charts = {k: ChartView(**v) for k, v in driver.execute_script(_MEASURE, list(CHARTS)).items()}
    if screenshot is not None:
        driver.save_screenshot(str(screenshot))
    columns = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#leaderboard thead th")]
    return DashboardView(status=driver.find_element(By.ID, "status").text, columns=columns, rows=rows, charts=charts)
