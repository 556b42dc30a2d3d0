"""Account endpoints: signing in and out, sessions, password, recovery and the vault. Thin:
parse, authorise, call one service, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from starlette.responses import JSONResponse, RedirectResponse, Response

from portal import protocol, wire
from portal.accounts import browsers, services, sessions, steps
from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.errors import NotSignedIn
from portal.security import KNOWN_BROWSER_COOKIE, SESSION_COOKIE, cookie_name, session_csrf_token
from portal.web import Access, AfterHashing, Ctx, endpoint

KEY = wire.KEY
BUNDLE = wire.KEY_BUNDLE
SALT = wire.SALT
SIGN_IN_REASONS = {"expired", "signed-out", "signin"}


def signed_in_response(
    ctx: Ctx, account: Account, next_url: str, *, first_sign_in: bool = False, **extra: object
) -> JSONResponse:
    """Start a session for ``account`` (after joining, signing in or recovering) and answer
    with what the browser needs to keep its key for this session.

    The session owes its second factor when the account holds one (or is staff's without one,
    who add one first): ``next`` is then that step's page (portal/accounts/steps.py). The
    second factor decides (``AppState.second_factor_due``): it sits above accounts.

    The browser is recognised here, once the password is proved and before any second factor
    (portal/accounts/browsers.py): a browser the account does not know is told to the person,
    unless this is the account's ``first_sign_in`` (joining)."""
    due = ctx.state.second_factor_due(ctx.db, account)
    user_agent = ctx.request.headers.get("user-agent", "")
    known = browsers.recognise(
        ctx.db,
        ctx.settings,
        account,
        known_browser_token(ctx),
        user_agent,
        first_sign_in=first_sign_in,
    )
    started = sessions.start(ctx.db, ctx.settings, account, user_agent, second_factor_due=due)
    if due == steps.VERIFY:
        next_url = ctx.url_for("second_factor_page")
    elif due == steps.ENROL:
        next_url = ctx.url_for("factors_page")
    record(
        ctx.db,
        ctx.settings,
        AuditTag.ACCOUNT_SIGNED_IN,
        actor_id=account.id,
        subject_id=started.row.id,
    )
    ctx.set_cookies.append((SESSION_COOKIE, started.token, None))
    # Renewed at each sign-in: a browser used at least every 400 days stays known.
    ctx.set_cookies.append((KNOWN_BROWSER_COOKIE, known.token, browsers.COOKIE_MAX_AGE))
    return JSONResponse(
        {
            # The page that asked still holds the signed-out token: the calls it makes next
            # in this session (registering a signing key, pinning the root) need this one.
            "csrf_token": session_csrf_token(ctx.settings.secret_key.reveal(), started.token),
            "account_id": account.id,
            "public_key": protocol.b64encode(account.public_key),
            "signing_public_key": _signing_key_json(account),
            "session_key": protocol.b64encode(started.session_key),
            "next": next_url,
            "second_factor": due,
            **extra,
        }
    )


def known_browser_token(ctx: Ctx) -> str | None:
    """The known-browser cookie's token, under its name for this service."""
    return ctx.request.cookies.get(
        cookie_name(KNOWN_BROWSER_COOKIE, secure=ctx.settings.secure_cookies)
    )


def _signing_key_json(account: Account) -> str | None:
    """The registered signing key; None tells the browser to register it
    (POST /api/account/signing-key)."""
    key = account.signing_public_key
    return protocol.b64encode(key) if key is not None else None


def end_signed_in_session(ctx: Ctx) -> None:
    """Someone else was signed in on this browser: that session ends here."""
    if ctx.current is not None:
        sessions.end_by_id(
            ctx.db, ctx.current.account.id, ctx.current.session_id, sessions.EndReason.SIGNED_OUT
        )


def _new_password_keys(ctx: Ctx) -> services.NewPasswordKeys:
    f = ctx.fields
    return services.NewPasswordKeys(
        salt=f.binary("salt", length=SALT),
        ops=f.integer("ops", minimum=1, maximum=100),
        mem=f.integer("mem", minimum=8 * 1024 * 1024, maximum=4 * 1024 * 1024 * 1024),
        auth_key=f.binary("auth_key", length=KEY),
        bundle=f.binary("bundle", length=BUNDLE),
    )


T = TypeVar("T")


def _with_hasher(ctx: Ctx, work: Callable[..., T], *args: Any) -> Callable[[], T]:
    """``work`` (run between two transactions, in the hashing slots) with the app's hasher and
    the dummy verifier bound: a name that does not exist costs the same time as one that does."""
    return partial(work, ctx.state.auth_hasher, ctx.state.dummy_verifier, *args)


# --------------------------------------------------------------------------------------- pages


@endpoint(Access.PUBLIC, before_second_factor=steps.WHILE_EITHER)
def root(ctx: Ctx) -> Response:
    return ctx.redirect("home" if ctx.current else "sign_in_page")


@endpoint(Access.PUBLIC, before_second_factor=steps.WHILE_EITHER)
def sign_in_page(ctx: Ctx) -> Response:
    if ctx.current is not None:
        return ctx.redirect("home")
    reason = ctx.query("reason")
    return ctx.render("accounts/sign_in.html", reason=reason if reason in SIGN_IN_REASONS else None)


@endpoint(Access.PUBLIC, before_second_factor=steps.WHILE_EITHER)
def recover_page(ctx: Ctx) -> Response:
    return ctx.render("accounts/recover.html")


@endpoint()
def account(ctx: Ctx) -> Response:
    keys = services.shown_keys(ctx.require_account())
    return ctx.render(
        "accounts/account.html",
        fingerprint=keys.number,
        fingerprint_digits=keys.digits,
        box_public_key=keys.box_public_key,
        signing_public_key=keys.signing_public_key or "",
        changed=ctx.query("changed"),
    )


@endpoint()
def password_page(ctx: Ctx) -> Response:
    return ctx.render("accounts/password.html")


@endpoint()
def sessions_page(ctx: Ctx) -> Response:
    me = ctx.require_account()
    return ctx.render(
        "accounts/sessions.html",
        rows=sessions.active_for(ctx.db, ctx.settings, me),
        this_session=ctx.current.session_id if ctx.current else None,
        ended=ctx.query("ended"),
        browsers=browsers.known_to(ctx.db, me.id),
        this_browser=browsers.this_browser_id(
            ctx.db, ctx.settings, me.id, known_browser_token(ctx)
        ),
    )


@endpoint()
def forget_browser(ctx: Ctx) -> Response:
    me = ctx.require_account()
    browsers.forget(ctx.db, ctx.settings, me, ctx.request.path_params["browser_id"])
    return ctx.redirect("sessions_page", ended="browser")


@endpoint()
def end_session(ctx: Ctx) -> Response:
    me = ctx.require_account()
    session_id = ctx.request.path_params["session_id"]
    if session_id == ctx.require_current().session_id:
        return sign_out_now(ctx, sessions.EndReason.SIGNED_OUT)
    if sessions.end_by_id(ctx.db, me.id, session_id, sessions.EndReason.ENDED_ELSEWHERE):
        record(ctx.db, ctx.settings, AuditTag.SESSION_ENDED, actor_id=me.id, subject_id=session_id)
    return ctx.redirect("sessions_page", ended="one")


@endpoint()
def end_other_sessions(ctx: Ctx) -> Response:
    current = ctx.require_current()
    me = current.account
    sessions.end_all(
        ctx.db, me.id, sessions.EndReason.ENDED_ELSEWHERE, except_id=current.session_id
    )
    record(
        ctx.db,
        ctx.settings,
        AuditTag.ACCOUNT_SIGNED_OUT_EVERYWHERE,
        actor_id=me.id,
        subject_id=me.id,
    )
    return ctx.redirect("sessions_page", ended="others")


@endpoint(Access.PUBLIC, before_second_factor=steps.WHILE_EITHER)
def sign_out(ctx: Ctx) -> Response:
    if ctx.current is None:
        return ctx.redirect("sign_in_page", reason="signed-out")
    return sign_out_now(ctx, sessions.EndReason.SIGNED_OUT)


def sign_out_now(ctx: Ctx, reason: str) -> RedirectResponse:
    current = ctx.require_current()
    sessions.end_by_id(ctx.db, current.account.id, current.session_id, reason)
    record(
        ctx.db,
        ctx.settings,
        AuditTag.ACCOUNT_SIGNED_OUT,
        actor_id=current.account.id,
        subject_id=current.session_id,
    )
    ctx.clear_cookies.append(SESSION_COOKIE)
    return ctx.redirect("sign_in_page", reason="signed-out")


@endpoint(Access.PUBLIC, touch=False, before_second_factor=steps.WHILE_EITHER)
def quick_exit(ctx: Ctx) -> Response:
    """Called by navigator.sendBeacon as the page leaves: end the session, forget this browser
    (its long-lived cookie is the one trace the portal would leave in it), answer nothing."""
    ctx.clear_cookies.append(KNOWN_BROWSER_COOKIE)
    if ctx.current is not None:
        browsers.forget_on_quick_exit(
            ctx.db, ctx.settings, ctx.current.account.id, known_browser_token(ctx)
        )
        sessions.end_by_id(
            ctx.db, ctx.current.account.id, ctx.current.session_id, sessions.EndReason.QUICK_EXIT
        )
        record(
            ctx.db,
            ctx.settings,
            AuditTag.ACCOUNT_QUICK_EXIT,
            actor_id=ctx.current.account.id,
            subject_id=ctx.current.session_id,
        )
        ctx.clear_cookies.append(SESSION_COOKIE)
    return Response(status_code=204)


# ------------------------------------------------------------------------------ JSON: sign in


@endpoint(Access.PUBLIC, before_second_factor=steps.WHILE_EITHER)
def api_sign_in_params(ctx: Ctx) -> Response:
    name = ctx.fields.text("sign_in_name", max_length=200)
    params = services.kdf_params_for(ctx.db, ctx.settings, name)
    return JSONResponse(
        {"salt": protocol.b64encode(params.salt), "ops": params.ops, "mem": params.mem}
    )


@endpoint(Access.PUBLIC, before_second_factor=steps.WHILE_EITHER)
def api_sign_in(ctx: Ctx) -> Response | AfterHashing[bool]:
    name = ctx.fields.text("sign_in_name", max_length=200)
    auth_key = ctx.fields.binary("auth_key", length=KEY)
    attempt = services.begin_attempt(ctx.db, ctx.settings, name, ctx.client_address)
    return ctx.after_hashing(
        _with_hasher(ctx, services.key_matches, attempt, auth_key),
        partial(_signed_in, attempt),
    )


def _signed_in(attempt: services.SignInAttempt, ctx: Ctx, matched: bool) -> Response:
    signed_in = services.finish_attempt(ctx.db, ctx.settings, attempt, matched)
    end_signed_in_session(ctx)
    # The bundle is returned only now, after the auth key was verified.
    return signed_in_response(
        ctx, signed_in, ctx.url_for("home"), bundle=protocol.b64encode(signed_in.key_bundle)
    )


@endpoint(touch=False, before_second_factor=steps.WHILE_EITHER)
def api_session(ctx: Ctx) -> Response:
    current = ctx.require_current()
    if current.session_key is None:
        raise NotSignedIn
    return JSONResponse(
        {
            "account_id": current.account.id,
            "public_key": protocol.b64encode(current.account.public_key),
            "signing_public_key": _signing_key_json(current.account),
            "session_key": protocol.b64encode(current.session_key),
            "idle_remaining": current.idle_seconds,
        }
    )


@endpoint(before_second_factor=steps.WHILE_EITHER)
def api_keepalive(ctx: Ctx) -> Response:
    return JSONResponse({"idle_remaining": ctx.require_current().idle_seconds})


@endpoint(touch=False, before_second_factor=steps.WHILE_EITHER)
def api_session_status(ctx: Ctx) -> Response:
    return JSONResponse({"idle_remaining": ctx.require_current().idle_seconds})


# --------------------------------------------------------------------- JSON: password, recovery


@endpoint()
def api_account_kdf(ctx: Ctx) -> Response:
    me = ctx.require_account()
    # The bundle lets a tab without the key in sessionStorage (a new tab) re-derive it from the
    # current password; it is useless without that password.
    return JSONResponse(
        {
            "account_id": me.id,
            "bundle": protocol.b64encode(me.key_bundle),
            "sign_in_name": me.sign_in_name,
            "salt": protocol.b64encode(me.kdf_salt),
            "ops": me.kdf_ops,
            "mem": me.kdf_mem,
            "new_ops": ctx.settings.kdf_ops,
            "new_mem": ctx.settings.kdf_mem_kib * 1024,
        }
    )


# What services.hash_new_password answers: whether the key matched, and the new hashes.
Hashed = tuple[bool, str | None, str | None]


@endpoint()
def api_change_password(ctx: Ctx) -> Response | AfterHashing[Hashed]:
    me = ctx.require_account()
    current_auth_key = ctx.fields.binary("current_auth_key", length=KEY)
    new = _new_password_keys(ctx)
    services.check_kdf_params(ctx.settings, new.ops, new.mem)
    attempt = services.begin_attempt(ctx.db, ctx.settings, me.sign_in_name, ctx.client_address)
    return ctx.after_hashing(
        _with_hasher(ctx, services.hash_new_password, attempt, current_auth_key, new.auth_key),
        partial(_password_changed, attempt, new),
    )


def _password_changed(
    attempt: services.SignInAttempt,
    new: services.NewPasswordKeys,
    ctx: Ctx,
    hashed: Hashed,
) -> Response:
    current = ctx.require_current()
    matched, auth_hash, _ = hashed
    services.change_password(
        ctx.db, ctx.settings, current.account, attempt, matched, new, auth_hash
    )
    sessions.end_all(
        ctx.db,
        current.account.id,
        sessions.EndReason.PASSWORD_CHANGED,
        except_id=current.session_id,
    )
    return JSONResponse({"next": ctx.url_for("account") + "?changed=password"})


@endpoint(Access.PUBLIC, before_second_factor=steps.WHILE_EITHER)
def api_recovery_start(ctx: Ctx) -> Response | AfterHashing[bool]:
    name = ctx.fields.text("sign_in_name", max_length=200)
    recovery_auth = ctx.fields.binary("recovery_auth", length=KEY)
    attempt = services.begin_attempt(ctx.db, ctx.settings, name, ctx.client_address, recovery=True)
    return ctx.after_hashing(
        _with_hasher(ctx, services.key_matches, attempt, recovery_auth),
        partial(_recovery_started, attempt),
    )


def _recovery_started(attempt: services.SignInAttempt, ctx: Ctx, matched: bool) -> Response:
    found = services.finish_attempt(ctx.db, ctx.settings, attempt, matched)
    return JSONResponse(
        {
            "account_id": found.id,
            "recovery_bundle": protocol.b64encode(found.recovery_bundle),
            "kdf": {"ops": ctx.settings.kdf_ops, "mem": ctx.settings.kdf_mem_kib * 1024},
        }
    )


@endpoint(Access.PUBLIC, before_second_factor=steps.WHILE_EITHER)
def api_recovery_complete(ctx: Ctx) -> Response | AfterHashing[Hashed]:
    f = ctx.fields
    name = f.text("sign_in_name", max_length=200)
    recovery_auth = f.binary("recovery_auth", length=KEY)
    new = _new_password_keys(ctx)
    new_recovery_auth = f.binary("new_recovery_auth", length=KEY)
    new_recovery_bundle = f.binary("new_recovery_bundle", length=BUNDLE)
    services.check_kdf_params(ctx.settings, new.ops, new.mem)
    attempt = services.begin_attempt(ctx.db, ctx.settings, name, ctx.client_address, recovery=True)
    return ctx.after_hashing(
        _with_hasher(
            ctx, services.hash_new_password, attempt, recovery_auth, new.auth_key, new_recovery_auth
        ),
        partial(_recovered, attempt, new, new_recovery_bundle),
    )


def _recovered(
    attempt: services.SignInAttempt,
    new: services.NewPasswordKeys,
    new_recovery_bundle: bytes,
    ctx: Ctx,
    hashed: Hashed,
) -> Response:
    recovered = services.complete_recovery(
        ctx.db, ctx.settings, attempt, hashed, new, new_recovery_bundle
    )
    sessions.end_all(ctx.db, recovered.id, sessions.EndReason.RECOVERED)
    return signed_in_response(ctx, recovered, ctx.url_for("home"))


@endpoint()
def api_register_signing_key(ctx: Ctx) -> Response:
    """An account made before trust anchors registers its signing key (accepted once)."""
    key = ctx.fields.binary("signing_public_key", length=KEY)
    services.register_signing_key(ctx.db, ctx.settings, ctx.require_account(), key)
    return JSONResponse({"signing_public_key": protocol.b64encode(key)})


MAX_VAULT = 256 * 1024


# Joining saves the pins its invitation vouches for before staff add their second factor; a
# session that may add one anyway gains nothing more from its own vault.
@endpoint(before_second_factor=steps.WHILE_ENROLLING)
def api_vault(ctx: Ctx) -> Response:
    blob = services.vault_of(ctx.db, ctx.require_account())
    return JSONResponse({"blob": protocol.b64encode(blob) if blob is not None else None})


@endpoint(before_second_factor=steps.WHILE_ENROLLING)
def api_save_vault(ctx: Ctx) -> Response:
    me = ctx.require_account()
    blob = ctx.fields.binary("blob", max_length=MAX_VAULT)
    services.save_vault(ctx.db, me, blob)
    return JSONResponse({"ok": True})


@endpoint(Access.PUBLIC, touch=False, database=False, before_second_factor=steps.WHILE_EITHER)
def healthz(ctx: Ctx) -> Response:
    return Response("ok", media_type="text/plain")
