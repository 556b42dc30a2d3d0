"""The service manager's figures page (GET /staff/reports), its CSV (GET /staff/reports.csv)
and its print view (GET /staff/reports/print): the same rows as ``portal report``, for a
period chosen on the page, with charts (``charts.py``) beside the tables."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from starlette.responses import Response

from portal import local_time
from portal.accounts.models import Role
from portal.db import utcnow
from portal.errors import BadInput
from portal.reports.charts import Chart, charts_for
from portal.reports.figures import Period, Report, Row
from portal.reports.services import report
from portal.web import Ctx, endpoint

SERVICE_MANAGER = frozenset({Role.SERVICE_MANAGER})


def _day(ctx: Ctx, name: str, default: date) -> date:
    value = ctx.query(name)
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput("Enter a date such as 2027-03-31.", field=name) from None


def _period(ctx: Ctx) -> Period:
    """The period asked for; by default the twelve months up to today."""
    today = local_time.local(utcnow()).date()
    a_year_before = today - timedelta(days=365) + timedelta(days=1)
    start = _day(ctx, "from", a_year_before)
    end = _day(ctx, "to", today)
    if end < start:
        raise BadInput("Choose a last day on or after the first day.", field="to")
    return Period(start, end)


def _grouped(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    groups: list[tuple[str, list[Row]]] = []
    for row in rows:
        if not groups or groups[-1][0] != row.figure:
            groups.append((row.figure, []))
        groups[-1][1].append(row)
    return groups


Section = tuple[str, list[Row], list[Chart]]


def _sections(figures: Report) -> list[Section]:
    """Each figure with its rows and its charts, in the report's order (the first two rows are
    the period itself)."""
    charts = charts_for(figures)
    return [
        (figure, rows, [chart for chart in charts if chart.figure == figure])
        for figure, rows in _grouped(figures.rows()[2:])
    ]


@endpoint(roles=SERVICE_MANAGER, threads=True)  # a year's figures: read for long
def reports_page(ctx: Ctx) -> Response:
    """The figures for the period asked for; a day that is not one is said beside its field
    (400), with the form kept as it was typed."""
    try:
        period = _period(ctx)
    except BadInput as refused:
        return ctx.render(
            "staff/reports.html",
            status_code=400,
            period=None,
            typed={"from": ctx.query("from") or "", "to": ctx.query("to") or ""},
            error=refused.message,
            error_field=refused.field,
            sections=[],
        )
    return ctx.render(
        "staff/reports.html",
        period=period,
        typed={"from": period.start.isoformat(), "to": period.end.isoformat()},
        error=None,
        error_field=None,
        sections=_sections(report(ctx.db, ctx.settings, period)),
    )


@endpoint(roles=SERVICE_MANAGER, threads=True)  # a year's figures: read for long
def reports_print(ctx: Ctx) -> Response:
    """The same figures and charts as a document to send a commissioner: no navigation, no
    quick exit, each figure on its own page when printed. A day that is not one: 400."""
    period = _period(ctx)
    return ctx.render(
        "staff/reports_print.html",
        period=period,
        sections=_sections(report(ctx.db, ctx.settings, period)),
    )


@endpoint(roles=SERVICE_MANAGER, threads=True)  # a year's figures: read for long
def reports_csv(ctx: Ctx) -> Response:
    period = _period(ctx)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["figure", "group", "value"])
    writer.writerows(
        [r.figure, r.group, r.value] for r in report(ctx.db, ctx.settings, period).rows()
    )
    name = f"figures-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
