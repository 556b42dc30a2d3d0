"""The service manager's figures page and its CSV (portal/reports/views.py): the same safe
rows as `portal report`, for a period chosen on the page."""

from __future__ import annotations

import csv

from portal.accounts.models import Role
from tests.cases_world import CaseWorld
from tests.factories import Portal


def test_the_figures_page_shows_each_figure_and_downloads_the_same_as_csv(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.facilitator.post_json(f"/api/cases/{world.case_id}/stage", {"stage": "first_contact"})
    manager = portal.person(Role.SERVICE_MANAGER)
    assert 'href="/staff/reports"' in manager.get("/home").text

    page = manager.get("/staff/reports")
    assert page.status_code == 200
    assert "<caption>Time to first contact</caption>" in page.text
    assert "<caption>Cases referred in the period, by stage now</caption>" in page.text
    # One case: a count that small is never shown as a number.
    assert '<th scope="row">First contact</th><td>fewer than 5</td>' in page.text

    chosen = manager.get("/staff/reports?from=2027-01-01&to=2027-03-31")
    assert 'id="reports-period">From 2027-01-01 to 2027-03-31' in chosen.text
    exported = manager.get("/staff/reports.csv?from=2027-01-01&to=2027-03-31")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "figures-2027-01-01-to-2027-03-31.csv" in exported.headers["content-disposition"]
    lines = list(csv.reader(exported.text.splitlines()))
    assert lines[:3] == [
        ["figure", "group", "value"],
        ["Period", "from", "2027-01-01"],
        ["Period", "to", "2027-03-31"],
    ]


def test_a_day_that_is_not_one_is_said_beside_its_field(portal: Portal) -> None:
    manager = portal.person(Role.SERVICE_MANAGER)
    bad = manager.get("/staff/reports?from=2027-02-30&to=2027-03-31")
    assert bad.status_code == 400
    assert 'id="reports-from-error">Enter a date such as 2027-03-31.' in bad.text
    assert 'value="2027-02-30"' in bad.text
    backwards = manager.get("/staff/reports?from=2027-03-31&to=2027-01-01")
    assert backwards.status_code == 400
    assert 'id="reports-to-error">Choose a last day on or after the first day.' in backwards.text
    assert manager.get("/staff/reports.csv?from=nonsense").status_code == 400
