"""The ``portal`` command: serve, migrate, setup-link, check."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from portal.accounts import services as accounts
from portal.audit.services import verify_chain
from portal.db import alembic_config, make_engine, make_session_factory, upgrade
from portal.errors import PortalError
from portal.invitations import services as invitations
from portal.logs import configure_logging
from portal.routes import STATIC_DIR
from portal.settings import Settings, SettingsError

REQUIRED_ASSETS = (
    "vendor/htmx.min.js",
    "vendor/libsodium-wrappers.mjs",
    "vendor/libsodium-sumo.mjs",
)


def _settings(base_url: str | None = None) -> Settings:
    env = dict(os.environ)
    if base_url and not env.get("PORTAL_BASE_URL"):
        env["PORTAL_BASE_URL"] = base_url
    return Settings.from_env(env)


def _print_setup_link(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            issued = invitations.issue_setup_link(db, settings)
            db.commit()
    finally:
        engine.dispose()
    link = f"{settings.base_url}/setup#token={issued.code}"
    hours = settings.setup_link_hours
    print(
        "\nCreate the service manager account by opening this link in a browser.\n"
        f"It works once and expires in {hours} hour{'s' if hours != 1 else ''}:\n\n    {link}\n",
        flush=True,
    )


WORKER_HEALTHCHECK_SECONDS = 60


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from portal.app import create_app, freeze_start_up, keep_freed_memory
    from portal.logs import uvicorn_log_config

    settings = _settings(f"http://{args.host}:{args.port}")
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            empty = not accounts.has_any_account(db)
    finally:
        engine.dispose()
    if empty and args.demo:
        _seed_demo(settings)
    elif empty:
        _print_setup_link(settings)
    print(f"The portal is running at {settings.base_url} (press Ctrl+C to stop).", flush=True)
    options = {
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies or None,
        "server_header": False,
        "log_config": uvicorn_log_config(),
        # With --workers, uvicorn kills a worker that does not answer its ping within this
        # many seconds. Its default (5) is shorter than a worker's start on a busy machine:
        # each was killed while still importing, and started again, for ever.
        "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
    }
    if args.workers == 1:
        app = create_app(settings)
        freeze_start_up()
        keep_freed_memory()
        uvicorn.run(app, **options)
        return 0
    # Several processes share the load (each Python process uses about one core). They read
    # their settings from the environment, so it must give them the base URL used here.
    os.environ["PORTAL_BASE_URL"] = settings.base_url
    uvicorn.run("portal.app:app_from_environment", factory=True, workers=args.workers, **options)
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    print("The database schema is up to date.")
    return 0


def cmd_setup_link(_args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    _print_setup_link(settings)
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    problems: list[str] = []
    try:
        settings = _settings()
    except SettingsError as error:
        print(f"Settings: {error}")
        return 1
    print(f"Data folder:    {settings.data_dir}")
    print(f"Database:       {settings.database_url.split('@')[-1]}")
    print(f"Base URL:       {settings.base_url}")
    print(f"Secret key:     {settings.secret_key!r}")
    print(f"Key derivation: Argon2id ops={settings.kdf_ops} mem={settings.kdf_mem_kib} KiB")
    if not settings.secure_cookies:
        print(
            "Note: the base URL is not https, so cookies are not marked Secure."
            " Use https in production."
        )
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
        print(f"Schema:         {current or 'empty'} (latest {head})")
        if current != head:
            problems.append("the schema is not up to date: run `portal migrate`")
    except Exception as error:  # noqa: BLE001  (report any connection failure plainly)
        problems.append(f"the database cannot be reached ({type(error).__name__})")
    finally:
        engine.dispose()
    problems.extend(_check_blob_store(settings))
    for asset in REQUIRED_ASSETS:
        if not (STATIC_DIR / asset).exists():
            problems.append(f"static/{asset} is missing: run scripts/assets.sh")
    for problem in problems:
        print(f"Problem: {problem}")
    print("All checks passed." if not problems else f"{len(problems)} problem(s) found.")
    return 1 if problems else 0


def _check_blob_store(settings: Settings) -> list[str]:
    if settings.s3 is None:
        print(f"Blob store:     {settings.blobs_dir}")
        return []
    from portal.blobstore_s3 import S3BlobStore  # boto3 only when chosen

    s3 = settings.s3
    print(
        f"Blob store:     S3 bucket {s3.bucket} at {s3.endpoint_url or 'AWS'}, prefix {s3.prefix!r}"
    )
    try:
        S3BlobStore.from_settings(s3).check()
    except Exception as error:  # noqa: BLE001  (report any failure to reach the bucket plainly)
        return [f"the S3 bucket cannot be reached ({type(error).__name__})"]
    return []


def cmd_audit_verify(_args: argparse.Namespace) -> int:
    """Check the audit chain: exit 0 if intact, 1 naming the first bad row."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            report = verify_chain(db, settings)
    finally:
        engine.dispose()
    if report.ok:
        print(f"The audit log is intact: {report.rows} rows, each chained to the one before.")
        return 0
    print(f"The audit log has been changed at row {report.first_bad_id}: {report.problem}.")
    return 1


def cmd_cleanup(_args: argparse.Namespace) -> int:
    """Run every maintenance job once, now: expired uploads, unused content ids, stale
    temporary files and orphan blobs; old sign-in failures, ended sessions, used invitations."""
    from portal.blobstore import open_blob_store
    from portal.maintenance import FAILED, Maintenance

    settings = _settings()
    configure_logging(settings)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        maintenance = Maintenance(make_session_factory(engine), open_blob_store(settings), settings)
        reports = maintenance.run_all_now()
    finally:
        engine.dispose()
    for job in maintenance.jobs:
        print(reports.get(job.name, f"{job.name}: skipped, another process is running it now."))
    return 1 if FAILED in reports.values() else 0


def cmd_demo(_args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    _seed_demo(settings)
    return 0


def _seed_demo(settings: Settings) -> None:
    from portal.demo import seed_demo  # only the demo needs it

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            lines = seed_demo(db, settings)
            db.commit()
    finally:
        engine.dispose()
    print("\n".join(lines), flush=True)


def cmd_seed_scale(args: argparse.Namespace) -> int:
    """A large seeded service for benchmarks (portal/demo_scale.py); prints who to sign in as."""
    import json
    import time

    from portal.demo_scale import Scale, analyze, seed_scale

    settings = _settings()
    upgrade(settings.database_url)
    password = args.password
    scale = Scale(cases=args.cases, messages=args.messages, years=args.years, seed=args.seed)
    started = time.monotonic()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            seeded = seed_scale(db, settings, scale, password)
            db.commit()
        analyze(engine)
    finally:
        engine.dispose()
    seconds = time.monotonic() - started
    if args.json:
        print(json.dumps({**seeded.__dict__, "seconds": round(seconds, 1)}))
        return 0
    print(f"Seeded in {seconds:.0f} s: " + ", ".join(f"{n} {t}" for t, n in seeded.rows.items()))
    print(f"A facilitator: {seeded.facilitator_name!r}; a participant: {seeded.participant_name!r}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The service's figures for a period, as CSV (figure, group, value) or JSON: counts of
    metadata only, each under 5 shown as "fewer than 5" (portal/reports/figures.py)."""
    import csv
    import json
    from datetime import date

    from portal import local_time
    from portal.reports.figures import Period
    from portal.reports.services import report

    try:
        period = Period(date.fromisoformat(args.start), date.fromisoformat(args.end))
    except ValueError:
        print("Give --from and --to as days such as 2027-01-31, --to not before --from.")
        return 2
    settings = _settings()
    local_time.use(local_time.zone_named(settings.time_zone))
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            rows = report(db, settings, period).rows()
    finally:
        engine.dispose()
    if args.format == "json":
        print(json.dumps([row.__dict__ for row in rows], indent=2))
        return 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["figure", "group", "value"])
    writer.writerows([row.figure, row.group, row.value] for row in rows)
    return 0


def cmd_reset_second_factor(args: argparse.Namespace) -> int:
    """The operator's way back in for a member of staff who lost every second factor and their
    backup codes (the last service manager, say): remove them, end the account's sessions, and
    audit it. Run only after checking in person who asked (docs/operator.md)."""
    from sqlalchemy import select

    from portal.accounts.models import Account
    from portal.audit.tags import AuditTag
    from portal.factors import services as factors

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            name = accounts.normalize_name(args.sign_in_name)
            account = db.scalars(select(Account).where(Account.sign_in_name == name)).first()
            if account is None:
                print("No account has that sign-in name.", file=sys.stderr)
                return 1
            gone = factors.reset(
                db, settings, account, actor_id=None, tag=AuditTag.SECOND_FACTOR_RESET_BY_OPERATOR
            )
            db.commit()
    finally:
        engine.dispose()
    print(
        f"Removed {gone} second factor{'s' if gone != 1 else ''} and the backup codes; the "
        "account is signed out everywhere. At the next sign-in, staff add a new one."
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal", description="Restorative justice portal.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="on an empty database, seed the demo service first"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        choices=range(1, 65),
        metavar="N",
        help="server processes (default 1; about one per core for heavy upload traffic)",
    )
    serve.set_defaults(run=cmd_serve)
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        run=cmd_migrate
    )
    commands.add_parser(
        "setup-link", help="print a fresh one-time link to create a service manager"
    ).set_defaults(run=cmd_setup_link)
    commands.add_parser("check", help="check the configuration").set_defaults(run=cmd_check)
    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser(
        "verify", help="detect any edited, removed or reordered audit row"
    ).set_defaults(run=cmd_audit_verify)
    commands.add_parser(
        "cleanup",
        help="run the maintenance jobs now: expired uploads, unused blobs, old sign-in failures, "
        "ended sessions, used invitations (serve runs them too)",
    ).set_defaults(run=cmd_cleanup)
    commands.add_parser(
        "demo", help="seed a demo service with a case and letters (never run by default)"
    ).set_defaults(run=cmd_demo)
    seed = commands.add_parser(
        "seed-scale",
        help="seed a large service for benchmarks (every account shares one password); "
        "never on a real service",
    )
    seed.add_argument("--cases", type=int, default=10_000)
    seed.add_argument("--messages", type=int, default=250_000)
    seed.add_argument("--years", type=float, default=3.0)
    seed.add_argument("--seed", type=int, default=1, help="the same seed seeds the same service")
    # Given, never made up and printed: a password does not belong in a terminal's scrollback.
    seed.add_argument(
        "--password", required=True, help="the one password every seeded account signs in with"
    )
    seed.add_argument("--json", action="store_true", help="print what was seeded as JSON")
    seed.set_defaults(run=cmd_seed_scale)
    figures = commands.add_parser(
        "report", help="the service's figures for a period (metadata only, small counts hidden)"
    )
    figures.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    figures.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
    figures.add_argument("--format", choices=("csv", "json"), default="csv")
    figures.set_defaults(run=cmd_report)
    reset = commands.add_parser(
        "reset-second-factor",
        help="remove an account's second factors after checking in person who asked (audited)",
    )
    reset.add_argument("sign_in_name")
    reset.set_defaults(run=cmd_reset_second_factor)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as error:
        print(f"Settings: {error}", file=sys.stderr)
        return 2
    except PortalError as error:
        print(error.message, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
