"""The one helper that keeps every text the app sends within Slack's limits."""

from __future__ import annotations

import pytest

from bot.blocks.common import ELLIPSIS, escape, fit


def test_a_text_within_its_budget_is_left_alone() -> None:
    assert fit("short", 5) == "short"


@pytest.mark.parametrize("budget", range(1, 40))
def test_a_long_escaped_text_is_cut_with_an_ellipsis_and_never_inside_markup(budget: int) -> None:
    text = escape("a & b <c> ") * 4 + "<https://example.com|console>"
    fitted = fit(text, budget)
    assert len(fitted) <= budget
    if len(text) > budget:
        assert fitted.endswith(ELLIPSIS)
        body = fitted.removesuffix(ELLIPSIS)
        assert body.count("&") == body.count(";")  # no half entity
        assert body.count("<") == body.count(">")  # no half link
