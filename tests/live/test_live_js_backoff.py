"""live.js's reconnect delay in a real browser: full jitter over [0, min(max, base * 2^(n-1))),
the same function as the reference client of the reconnect-storm test, and the same defaults as
the policy the server announces."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontend.consumers import reconnect_policy
from tests.browser import CHROMIUM, launch
from tests.live.test_reconnect_storm import reconnect_delay

pytestmark = [pytest.mark.browser]
LIVE_JS = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend" / "live.js"


class _Fixed:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def test_live_js_reconnect_delay_is_jittered_capped_and_matches_the_reference_client():
    assert CHROMIUM, "Debian chromium is not installed: run `make test` (it installs it)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page()
            # A stand-in origin: the page loads live.js as the console does; its socket to the
            # absent server fails and schedules reconnects, which is all the better.
            page.route("http://cc.test/console/", lambda route: route.fulfill(
                content_type="text/html", body='<html><body data-last-event-id="0">'
                                                '<script src="/static/frontend/live.js"></script></body></html>'))
            page.route("http://cc.test/static/frontend/live.js", lambda route: route.fulfill(
                content_type="application/javascript", body=LIVE_JS.read_text()))
            page.goto("http://cc.test/console/")
            page.wait_for_function("() => window.CCLive !== undefined")
            assert page.evaluate("() => CCLive.reconnectPolicy()") == reconnect_policy()
            samples = page.evaluate(
                "() => Object.fromEntries([1, 2, 3, 6, 12].map(a => "
                "[a, Array.from({length: 2000}, () => CCLive.reconnectDelay(a))]))"
            )
            fixed = page.evaluate("() => [1, 2, 3, 6, 12].map(a => [a, CCLive.reconnectDelay(a, 0.5)])")
        finally:
            browser.close()

    policy = reconnect_policy()
    for attempt, delays in samples.items():
        cap = min(policy["max_ms"], policy["base_ms"] * 2 ** (int(attempt) - 1))
        assert 0 <= min(delays) and max(delays) < cap, (attempt, min(delays), max(delays))
        # Spread over the whole interval (full jitter), not bunched near its end or start.
        assert min(delays) < cap * 0.05 and max(delays) > cap * 0.95, attempt
        assert len(set(delays)) > 1900
    for attempt, delay in fixed:
        assert delay / 1000 == pytest.approx(reconnect_delay(attempt, policy, _Fixed(0.5)))
