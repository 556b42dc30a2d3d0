"""Feedback endpoints: the form a participant or supporter of a closed case is offered, its
answer and its dismissal; the service manager's "What participants said" page. Thin: parse,
authorise, one service, answer."""

from __future__ import annotations

import secrets

from starlette.responses import JSONResponse, Response

from portal import paging, protocol
from portal.accounts.models import Role
from portal.errors import NotFound
from portal.feedback import schemas, services
from portal.referrals import policy as referral_policy
from portal.referrals.services import current_key, grant_of
from portal.web import Ctx, endpoint

TAKING_PART = frozenset({Role.PARTICIPANT, Role.SUPPORTER})
SERVICE_MANAGER = frozenset({Role.SERVICE_MANAGER})


@endpoint(roles=TAKING_PART)
def feedback_page(ctx: Ctx) -> Response:
    """The short form; the free-text box only when the service has a referral key to seal it
    to. 404 when nothing is offered (the case is open, or they answered or dismissed it)."""
    if services.open_offer(ctx.db, ctx.require_account()) is None:
        raise NotFound("There is no feedback to give here.")
    return ctx.render("feedback/form.html", free_text=current_key(ctx.db) is not None)


@endpoint(roles=TAKING_PART)
def api_give_feedback(ctx: Ctx) -> Response:
    """``{satisfied?, recommend?, better_able?, key_id?, ciphertext?}``; once (409 after)."""
    services.answer(ctx.db, ctx.require_account(), schemas.answers(ctx.fields))
    if ctx.is_htmx:
        return ctx.partial("feedback/_thanks.html")
    return JSONResponse({"answered": True}, status_code=201)


@endpoint(roles=TAKING_PART)
def api_dismiss_feedback(ctx: Ctx) -> Response:
    """No thank you: the offer is never shown again (409 once answered or dismissed)."""
    services.dismiss(ctx.db, ctx.require_account())
    if ctx.is_htmx:
        return ctx.partial("feedback/_dismissed.html")
    return JSONResponse({"dismissed": True})


@endpoint(roles=SERVICE_MANAGER)
def feedback_texts_page(ctx: Ctx) -> Response:
    """What participants wrote, in a random order and with their month only, a page at a time
    (``?page=``), opened in the manager's browser with the referral key (only for a manager who
    holds it and may)."""
    me = ctx.require_account()
    key = current_key(ctx.db)
    holds = key is not None and grant_of(ctx.db, key, me.id) is not None
    reader = holds and referral_policy.may_read(ctx.db, me)
    if not reader:
        return ctx.render("feedback/texts.html", reader=False, texts=[], page=None)
    page = services.sealed_texts_page(ctx.db, paging.page_number(ctx.query("page")))
    texts = [
        {"month": text.month, "key_id": text.key_id, "ciphertext": protocol.b64encode(text.sealed)}
        for text in page.items
    ]
    # The page's order follows random ids already; a shuffle makes sure of it.
    secrets.SystemRandom().shuffle(texts)
    return ctx.render("feedback/texts.html", reader=True, texts=texts, page=page)
