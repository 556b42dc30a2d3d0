"""Pages stay flat as the service grows: the same SQL statements for a small seeded service and
a larger one (``portal seed-scale``, portal/demo_scale.py), and every long list in pages.

Statements are counted per request in process (tests/support/statements.py). bench/pages.py
measures the same pages' times at 1/10 and at full size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from portal.app import create_app
from portal.audit.models import AuditEvent
from portal.cases.models import Case, Participant
from portal.casework.models import AgreementItem
from portal.db import make_engine, make_session_factory
from portal.demo_scale import Scale, Seeded, seed_scale
from portal.homes.models import HomeHead
from portal.messages.models import Message
from portal.messages.states import WAITING_FOR_REVIEW
from portal.settings import Settings
from tests.factories import Person
from tests.support.databases import Databases
from tests.support.env import portal_env
from tests.support.statements import Counting, counting_statements, explained

PASSWORD = "seeded service password"
# Big enough that every paged address below is a page of its list at both sizes (a page past
# the end is a different path: two more statements, the count and the last page; see
# test_a_page_past_the_end_shows_the_last).
SMALL = Scale(cases=3, messages=90, seed=3)
LARGER = Scale(cases=55, messages=420, seed=4)

# (who, address): {case} is the seeded facilitator's busiest case.
PAGES = {
    "facilitator's home": ("facilitator", "/home"),
    "review queue": ("facilitator", "/queue"),
    "review queue, all": ("facilitator", "/queue?state=all"),
    "review queue, page 2": ("facilitator", "/queue?state=all&page=2"),
    "cases list": ("facilitator", "/cases"),
    "follow-ups": ("facilitator", "/follow-ups"),
    "case page": ("facilitator", "/cases/{case}"),
    "audit trail": ("facilitator", "/cases/{case}/audit"),
    "audit trail, page 2": ("facilitator", "/cases/{case}/audit?page=2"),
    "participant's home": ("participant", "/home"),
    "participant's home, page 2": ("participant", "/home?page=2"),
}


@dataclass
class Service:
    """A seeded service, its app in process, and its facilitator and participant signed in."""

    seeded: Seeded
    settings: Settings
    app: Counting
    facilitator: Person
    participant: Person

    def get(self, who: str, path: str, **kwargs: Any) -> str:
        person = self.facilitator if who == "facilitator" else self.participant
        response = person.get(path.format(case=self.seeded.busiest_case_id), **kwargs)
        assert response.status_code == 200, (path, response.text[:300])
        return response.text

    def statements(self, who: str, path: str) -> int:
        """The fewest statements of three requests: a request may also note the session's
        last-seen time (at most every few seconds, and again on the next request when the
        database was busy), which is not the page's own work."""
        counts = []
        for _ in range(3):
            self.get(who, path)
            counts.append(self.app.last.count)
        return min(counts)


@pytest.fixture
def services(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[dict[Scale, Service]]:
    """A small and a larger seeded service, on the test's backend (``database_url`` is the
    small one's; the larger gets a database of its own from the same backend)."""
    backend = request.node.callspec.params["database_url"]
    databases: Databases = request.getfixturevalue(f"{backend}_databases")
    with ExitStack() as stack, counting_statements():
        (tmp_path / "larger").mkdir()
        larger_url = stack.enter_context(databases.database(tmp_path / "larger", migrated=True))
        made = {}
        for scale, url in ((SMALL, database_url), (LARGER, larger_url)):
            made[scale] = _service(stack, scale, url, tmp_path / f"data-{scale.seed}")
        yield made


def _service(stack: ExitStack, scale: Scale, url: str, data_dir: Path) -> Service:
    settings = Settings.from_env(
        portal_env(data_dir=data_dir, database_url=url, base_url="http://testserver")
    )
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            seeded = seed_scale(db, settings, scale, PASSWORD)
            db.commit()
    finally:
        engine.dispose()
    app = Counting(create_app(settings))
    client = stack.enter_context(TestClient(app))
    facilitator = Person(client, name=seeded.facilitator_name, password=PASSWORD)
    participant = Person(client, name=seeded.busiest_participant_name, password=PASSWORD)
    facilitator.sign_in()
    participant.sign_in()
    return Service(seeded, settings, app, facilitator, participant)


def test_pages_run_the_same_statements_at_any_size(services: dict[Scale, Service]) -> None:
    small, larger = services[SMALL], services[LARGER]
    counts = {
        name: (small.statements(who, path), larger.statements(who, path))
        for name, (who, path) in PAGES.items()
    }
    grew = {name: pair for name, pair in counts.items() if pair[0] != pair[1]}
    assert not grew, f"statements per page grew with the data: {grew}"
    # And none is a long walk: a page is a handful of statements (the session's, run on the
    # driver, counted among them: the case page's 17).
    assert max(count for count, _ in counts.values()) <= 17, repr(counts)


def test_the_facilitators_home_is_one_statement_beyond_any_signed_in_page(
    services: dict[Scale, Service],
) -> None:
    """Everything the home shows (workspace/facilitator_home.py: what waits, regrants, letters
    to print, hand-overs, events...) comes from the rows kept for it (portal/homes), one
    statement, at any size: the home runs one statement more than /account, which reads
    nothing beyond its session. Read from the cases (nothing kept, or a change since), it is
    one statement more, then the rows are kept after the page is sent. Statements run on the
    driver (db.DriverQuery) are counted too (tests/support/statements.py)."""
    for service in services.values():
        account = service.statements("facilitator", "/account")
        home = service.statements("facilitator", "/home")
        assert home == account + 1, service.app.last.statements
        assert "FROM home_rows" in service.app.last.statements[-1]
        _count_a_change_for_every_home(service)
        service.get("facilitator", "/home")
        sent = service.app.last.statements
        assert "FROM home_rows" in sent[account]  # what is kept: no longer the count's
        assert "SELECT 'security' AS kind" in sent[account + 1]  # the cases' one statement
        assert any(s.startswith("UPDATE home_heads SET kept_at_changes") for s in sent), sent
        # Kept again: the next home is one statement beyond /account.
        assert service.statements("facilitator", "/home") == account + 1


def _count_a_change_for_every_home(service: Service) -> None:
    """As a change to every facilitator's cases would: each kept home is read again."""
    engine = make_engine(service.settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(update(HomeHead).values(changes=HomeHead.changes + 1))
    finally:
        engine.dispose()


def _rows(html: str, marker: str) -> list[str]:
    return re.findall(marker, html)


def test_the_queue_comes_in_pages_oldest_first(services: dict[Scale, Service]) -> None:
    service = services[LARGER]
    first = service.get("facilitator", "/queue?state=all")
    second = service.get("facilitator", "/queue?state=all&page=2")
    ids_first = _rows(first, r'data-message-id="([0-9a-f-]+)"')
    ids_second = _rows(second, r'data-message-id="([0-9a-f-]+)"')
    assert len(ids_first) == 25
    assert ids_second
    assert not set(ids_first) & set(ids_second)
    pages = -(-420 // 25)
    assert f"Page 1 of {pages}" in first
    assert "Later items" in first
    assert "Earlier items" not in first
    assert f"Page 2 of {pages}" in second
    assert 'href="/queue?state=all&amp;page=1"' in second


def test_the_queue_pager_keeps_the_filters_and_swaps_with_htmx(
    services: dict[Scale, Service],
) -> None:
    service = services[LARGER]
    partial = service.get(
        "facilitator", "/queue?state=all&format=letter&page=2", headers={"HX-Request": "true"}
    )
    assert partial.lstrip().startswith('<div id="queue-items">')
    assert 'hx-get="/queue?format=letter&amp;state=all&amp;page=1"' in partial
    assert 'hx-target="#queue-items"' in partial
    assert re.search(r"Items 26 to \d+ of \d+ shown, oldest first \(page 2 of \d+\)\.", partial)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2.5", "", "9" * 40])
def test_a_page_number_that_is_not_one_shows_the_first_page(
    services: dict[Scale, Service], page: str
) -> None:
    service = services[LARGER]
    shown = service.get("facilitator", f"/queue?state=all&page={page}")
    assert "Page 1 of" in shown


def test_a_page_past_the_end_shows_the_last(services: dict[Scale, Service]) -> None:
    service = services[LARGER]
    pages = -(-420 // 25)
    for path in ("/queue?state=all&page=999", f"/queue?state=all&page={'9' * 7}"):
        shown = service.get("facilitator", path)
        assert f"Page {pages} of {pages}" in shown
        assert "Later items" not in shown
    audit = service.get("facilitator", "/cases/{case}/audit?page=100000")
    assert re.search(r"Page (\d+) of \1<", audit)


def test_the_audit_trail_comes_in_pages_with_every_event_once(
    services: dict[Scale, Service],
) -> None:
    service = services[LARGER]
    case_id = service.seeded.busiest_case_id
    engine = make_engine(service.settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            case = db.get(Case, case_id)
            assert case is not None
            ids = [
                case_id,
                *db.scalars(select(Participant.id).where(Participant.case_id == case_id)),
                *db.scalars(select(Message.id).where(Message.case_id == case_id)),
                # The case's records (seeded: agreement items) are in its trail too.
                *db.scalars(select(AgreementItem.id).where(AgreementItem.case_id == case_id)),
            ]
            total = db.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.subject_id.in_(ids))
            )
    finally:
        engine.dispose()
    assert total is not None
    pages = -(-total // 50)
    assert pages > 1
    seen = 0
    for number in range(1, pages + 1):
        html = service.get("facilitator", f"/cases/{{case}}/audit?page={number}")
        assert f"Page {number} of {pages}" in html
        seen += len(_rows(html, r'<td data-label="Action">'))
    assert seen == total


def test_the_participant_sees_their_letters_in_pages(services: dict[Scale, Service]) -> None:
    service = services[LARGER]
    first = service.get("participant", "/home")
    assert "Page 1 of" in first
    assert "Older letters" in first
    second = service.get("participant", "/home?page=2")
    letters = r'href="/letters/([0-9a-f-]+)"'
    assert _rows(second, letters)
    assert not set(_rows(first, letters)) & set(_rows(second, letters))
    assert "Newer letters" in second
    odd = service.get("participant", "/home?page=x&waiting=-3")
    assert _rows(odd, letters) == _rows(first, letters)


def test_the_facilitators_home_counts_what_waits(services: dict[Scale, Service]) -> None:
    service = services[LARGER]
    engine = make_engine(service.settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            waiting = db.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.state.in_(WAITING_FOR_REVIEW))
            )
    finally:
        engine.dispose()
    assert f"({waiting} waiting)" in service.get("facilitator", "/home")


def test_the_cases_list_comes_in_pages_newest_first(services: dict[Scale, Service]) -> None:
    """50 cases a page: the larger service has 55."""
    service = services[LARGER]
    first = service.get("facilitator", "/cases")
    second = service.get("facilitator", "/cases?page=2")
    assert len(_rows(first, r'<tr data-case-id="')) == 50
    assert len(_rows(second, r'<tr data-case-id="')) == 5
    assert "Page 1 of 2" in first
    assert "Older cases" in first
    assert "Newer cases" in second
    # The smallest has one page: no pager at all.
    assert "Page 1 of" not in services[SMALL].get("facilitator", "/cases")


def _plans(service: Service, who: str, path: str, *, indexes_only: bool = False) -> list[list[str]]:
    """How the database means to run each statement a page sends, as its EXPLAIN (PostgreSQL)
    or EXPLAIN QUERY PLAN (SQLite) says it: the page is asked for, and each statement it sent
    is explained again on the same database, with the same values. ``indexes_only``: on
    PostgreSQL, as if reading a table whole cost more than anything (``enable_seqscan`` off),
    so a plan reads one whole only when no index can serve. The facilitator's home is read
    from the cases (what is kept for it counted as changed first), then kept again."""
    if (who, path) == PAGES["facilitator's home"]:
        _count_a_change_for_every_home(service)
    service.get(who, path)
    sent = [
        one
        for one in service.app.last.sent
        if not isinstance(one[0], str) or one[0].lstrip().upper().startswith(_EXPLAINED)
    ]
    engine = make_engine(service.settings.database_url)
    try:
        with engine.connect() as connection:
            if indexes_only and connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET enable_seqscan = off")
            driver = connection.connection.driver_connection
            return [explained(driver, connection.dialect.name, one) for one in sent]
    finally:
        engine.dispose()


# What EXPLAIN takes (a transaction's BEGIN, COMMIT or a PRAGMA is not explained), and reads
# rows by (an INSERT of values, the home's rows kept among them, reads none).
_EXPLAINED = ("SELECT", "WITH", "UPDATE", "DELETE")


def test_the_home_finds_who_is_owed_grants_through_the_index_of_those_marked(
    services: dict[Scale, Service],
) -> None:
    """The regrants part (messages/regrants.waiting_statement) looks at the participants marked
    as owed grants only, through their partial index (ix_participants_grants_owed), never at
    every participant of the facilitator's cases: its condition must keep implying the index's
    (cases/models.GRANTS_OWED_PREDICATE), or the database cannot use it. The written-for part
    finds what was written on someone's behalf through its own (ix_messages_written_for), and
    no part looks up who has not withdrawn among everyone."""
    for service in services.values():
        plan = "\n".join(
            line for lines in _plans(service, *PAGES["facilitator's home"]) for line in lines
        )
        assert "ix_participants_grants_owed" in plan, plan
        # What was written on a participant's behalf, through its own small index too.
        assert "ix_messages_written_for" in plan, plan
        # Nor does any part look for who has not withdrawn among everyone: the withdrawn index
        # holds those who withdrew only (cases/models.WITHDRAWN_PREDICATE).
        assert "ix_participants_withdrawn (withdrawn_at=?)" not in plan, plan
        assert "SCAN participants" not in plan, plan


# Tables a page may read whole: they grow with the staff, not with the cases and people the
# service serves (the trust log certifies and revokes staff: trust/models.EntryKind).
FEW_ROWS = {"maintenance_leases", "referral_readers", "trust_log"}


def test_no_page_reads_a_table_that_grows_with_the_service(
    services: dict[Scale, Service],
) -> None:
    """Every statement of every page looks rows up through an index: none reads a table that
    grows with the service from end to end. On SQLite, as its plans say (a SCAN of a table, or
    a walk of a whole index of it): it keeps no statistics, so they are the same at any size.
    On PostgreSQL, which reads a small table whole by choice, as its plans say when that costs
    more than anything (a Seq Scan then means no index can serve). The pages' times are
    bench/pages.py's."""
    service = services[LARGER]
    scans: dict[str, list[str]] = {}
    for name, (who, path) in PAGES.items():
        for plan in _plans(service, who, path, indexes_only=True):
            assert plan, f"{name}: a statement the database did not explain"
            for line in plan:
                table = _read_whole(line)
                if table is not None and table not in FEW_ROWS:
                    scans.setdefault(name, []).append(line.strip())
    assert not scans, scans


def _read_whole(line: str) -> str | None:
    """The table a plan's line reads from end to end, or None."""
    words = line.split()
    if "Seq Scan on" in line:  # PostgreSQL
        return words[words.index("on") + 1]
    if words and words[0] == "SCAN" and not words[1].startswith(("anon_", "(subquery", "CONSTANT")):
        return words[1]  # SQLite (a table, or a whole index of it)
    return None
