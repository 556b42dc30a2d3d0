"""The notices page (from "Your account"): turn notices on, change them, turn them off, send a
test; and the person's whole dated list of what happened (``?page=N``), notices on or off.
Thin: parse, call one service, answer with the page (htmx swaps its main part)."""

from __future__ import annotations

from starlette.responses import Response

from portal.errors import BadInput
from portal.notifications import services
from portal.notifications.models import Frequency
from portal.notifications.rules import MINUTES_A_DAY, QuietHours, QuietHoursInvalid
from portal.paging import page_number
from portal.web import Ctx, Fields, endpoint

FREQUENCIES = {frequency.value: frequency for frequency in Frequency}
DONE = {"saved", "off", "test"}


def _minute(fields: Fields, name: str) -> int | None:
    """ "HH:MM" as an ``<input type="time">`` sends it, as minutes after midnight."""
    raw = fields.text(name, max_length=8, required=False)
    if not raw:
        return None
    hours, _, minutes = raw.partition(":")
    if not (hours.isdigit() and minutes[:2].isdigit() and len(hours) <= 2):
        raise BadInput("Enter a time such as 21:30.", field=name)
    minute = int(hours) * 60 + int(minutes[:2])
    if not (0 <= int(minutes[:2]) < 60 and 0 <= minute < MINUTES_A_DAY):
        raise BadInput("Enter a time such as 21:30.", field=name)
    return minute


def _quiet_hours(fields: Fields) -> QuietHours | None:
    start, end = _minute(fields, "quiet_from"), _minute(fields, "quiet_to")
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise BadInput(
            "Give both times for quiet hours, or neither.",
            field="quiet_from" if start is None else "quiet_to",
        )
    try:
        return QuietHours(start, end)
    except QuietHoursInvalid:
        raise BadInput(
            "Quiet hours must end at another time than they start.", field="quiet_to"
        ) from None


def _as_time(minute: int | None) -> str:
    return "" if minute is None else f"{minute // 60:02d}:{minute % 60:02d}"


@endpoint()
def notices_page(ctx: Ctx) -> Response:
    me = ctx.require_account()
    found = services.preference_of(ctx.db, me.id)
    done = ctx.query("done")
    return ctx.render(
        "accounts/notices.html",
        available=ctx.settings.smtp is not None,
        preference=found,
        frequency=found.frequency if found else Frequency.DIGEST,
        quiet_from=_as_time(found.quiet_from_minute if found else None),
        quiet_to=_as_time(found.quiet_to_minute if found else None),
        events=services.events_page(ctx.db, me.id, page_number(ctx.query("page"))),
        kept_days=services.EVENTS_KEPT.days,
        done=done if done in DONE else None,
    )


@endpoint()
def save_notices(ctx: Ctx) -> Response:
    me = ctx.require_account()
    choice = services.Choice(
        email=services.checked_address(ctx.fields.text("email", max_length=1000)),
        frequency=ctx.fields.choice("frequency", FREQUENCIES),
        quiet=_quiet_hours(ctx.fields),
    )
    services.save(ctx.db, ctx.settings, me.id, choice)
    return ctx.redirect("notices_page", done="saved")


@endpoint()
def turn_off_notices(ctx: Ctx) -> Response:
    services.turn_off(ctx.db, ctx.settings, ctx.require_account().id)
    return ctx.redirect("notices_page", done="off")


@endpoint()
def test_notice(ctx: Ctx) -> Response:
    services.queue_test(ctx.db, ctx.settings, ctx.require_account().id)
    return ctx.redirect("notices_page", done="test")
