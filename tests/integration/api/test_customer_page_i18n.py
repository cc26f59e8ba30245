"""The customer 360 and the funnel speak the user's language: statuses, channels, dates."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api.test_pages import sign_in, site

__all__ = ["site"]


def test_timeline_statuses_channels_and_dates_are_translated(
    site: tuple[TestClient, dict[str, object]],
) -> None:
    client, facts = site
    customers: dict[str, int] = facts["customers"]  # type: ignore[assignment]
    csrf = sign_in(client, "manager")
    english = client.get(f"/customers/{customers['manager']}").text
    assert "<td>Completed</td>" in english
    client.post("/language", data={"lang": "hu", "csrf": csrf, "back": "/"})
    hungarian = client.get(f"/customers/{customers['manager']}").text
    assert "<td>Teljesítve</td>" in hungarian and "<td>completed</td>" not in hungarian
    assert "<dd>other</dd>" not in hungarian
    funnel = client.get("/funnel").text
    assert "2026. márc. 1." in funnel and "2026-03-01" not in funnel
