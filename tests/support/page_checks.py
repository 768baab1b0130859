"""What every page must pass on a phone and on a desktop: no sideways scrolling, and no
serious or critical accessibility violation as axe-core (npm, web/node_modules) finds them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from playwright.sync_api import Page, ViewportSize

from tests.support.assets import WEB_DIR

PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)
WIDTHS = {"390 px": PHONE, "1280 px": DESKTOP}
BLOCKING_IMPACTS = ("serious", "critical")


@cache
def axe_source() -> str:
    path = WEB_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make test` (or `npm ci` in web/)")
    return path.read_text()


@dataclass(frozen=True)
class PageProblem:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when nothing scrolls)."""
    overflow: int = page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth")
    return overflow


def widest_elements(page: Page) -> list[str]:
    """The elements that stick out of the window, to name them in a failure."""
    sticking_out: list[str] = page.evaluate("""() => [...document.querySelectorAll("body *")]
        .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1
          && !element.closest("thead"))
        .slice(0, 5)
        .map((element) => `${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}`
          + `${element.className && typeof element.className === "string"
              ? "." + element.className.split(" ").join(".") : ""}`)""")
    return sticking_out


TOUCH_TARGET_PX = 44


def small_touch_targets(page: Page) -> list[str]:
    """Visible controls smaller than 44 by 44 px (links inside running text are exempt, as in
    WCAG 2.5.5; a radio button or checkbox counts by its label)."""
    small: list[str] = page.evaluate("""(minimum) => {
      const controls = document.querySelectorAll("button, select, textarea, summary, nav a, "
        + "a.button, input:not([type=hidden]), label.choice");
      return [...controls].filter((element) => {
        if (element.matches("input[type=radio], input[type=checkbox]")) return false;
        const box = element.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) return false;  // not shown
        return box.height < minimum - 0.5 || box.width < minimum - 0.5;
      }).map((element) => `${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}`
        + ` "${(element.textContent || element.getAttribute("aria-label") || "").trim()
          .slice(0, 24)}"`
        + ` ${Math.round(element.getBoundingClientRect().width)}x`
        + `${Math.round(element.getBoundingClientRect().height)}`);
    }""", TOUCH_TARGET_PX)
    return small


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now. Evaluated through
    DevTools, so the page's strict CSP does not stop the audit script."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    found: list[dict[str, object]] = page.evaluate(
        "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])  # type: ignore[index]
        for violation in found if violation["impact"] in BLOCKING_IMPACTS
    ]


def check_page(page: Page, label: str) -> list[PageProblem]:
    """Check ``page`` at both widths, then axe again in dark mode; leave it at the desktop
    width, light."""
    problems: list[PageProblem] = []
    page.wait_for_load_state("load")  # a page reached by a redirect may still be arriving
    for width_name, size in WIDTHS.items():
        page.set_viewport_size(size)
        where = f"{label} at {width_name} ({page.url})"
        overflow = horizontal_overflow(page)
        if overflow > 0:
            problems.append(PageProblem(where, f"scrolls sideways by {overflow} px "
                                               f"({', '.join(widest_elements(page))})"))
        if size is PHONE and (small := small_touch_targets(page)):
            problems.append(PageProblem(where, f"touch targets under {TOUCH_TARGET_PX} px: "
                                               + "; ".join(small)))
        problems.extend(PageProblem(where, violation)
                        for violation in accessibility_violations(page))
    page.emulate_media(color_scheme="dark")
    try:
        problems.extend(PageProblem(f"{label}, dark ({page.url})", violation)
                        for violation in accessibility_violations(page))
    finally:
        page.emulate_media(color_scheme="light")
    return problems
