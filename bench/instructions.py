"""Machine instructions per request of the real app in process, counted by Valgrind (callgrind),
for one or more checkouts side by side.

CPU time per request moves by a tenth or more between two runs on a shared 2-core machine;
the number of instructions a request executes hardly moves at all (a few in a thousand), so a
change worth a few per cent shows here when it is lost in timings. Instructions are not time
(a cache miss costs more than an add), so a change's real effect is still read from
throughput.py; this says whether, and by how much, the code does less.

Each checkout's app is built as bench/in_process.py builds it (its world, on a throwaway
PostgreSQL or SQLite database), warmed up, and then ``--requests`` requests to ``--path`` run
with callgrind's instrumentation switched on around them only (``callgrind_control``), so the
set-up is not counted.

    .venv/bin/python bench/instructions.py [--checkouts .,../other] [--path /account]
                                           [--requests 1000] [--database postgresql]
                                           [--loop uvloop]

``--loop``: the event loop the app runs on, uvloop (the server's, the default) or asyncio's
own (whose Python loop adds its own instructions to every request; the figures before
2026-12-04, midday, were counted there).

Needs Valgrind (Debian: ``apt-get install -y valgrind``); about a minute per checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _child(path: str, count: int, signals: Path, database: str, loop: str) -> None:
    """Run in the checkout under test, under callgrind with instrumentation off at start."""
    sys.path.insert(0, str(Path.cwd()))
    sys.path.insert(0, str(Path.cwd() / "bench"))
    from in_process import _many, _world

    from portal.app import create_app, keep_freed_memory
    from portal.db import upgrade
    from portal.settings import Settings
    from tests.support.env import portal_env
    from tests.support.postgres import throwaway_database

    keep_freed_memory()
    with tempfile.TemporaryDirectory() as temp, throwaway_database(database, Path(temp)) as url:
        (Path(temp) / "data").mkdir()
        upgrade(url)
        settings = Settings.from_env(
            portal_env(data_dir=Path(temp) / "data", database_url=url, base_url="http://testserver")
        )
        cookie = _world(create_app(settings), settings, 20)
        app = create_app(settings)

        async def measured() -> None:
            async with app.router.lifespan_context(app):
                await _many(app, path, cookie, 200)
                (signals / "ready").touch()
                while not (signals / "go").exists():
                    await asyncio.sleep(0.05)
                await _many(app, path, cookie, count)
                (signals / "done").touch()
                while not (signals / "stop").exists():
                    await asyncio.sleep(0.05)

        if loop == "uvloop":
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(measured())
        else:
            asyncio.run(measured())


def _wait_for(signal: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    while not signal.exists():
        if process.poll() is not None:
            sys.exit(f"the measured process ended early:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _instrument(process: subprocess.Popen[bytes], switch: str) -> None:
    command = ["callgrind_control", "-i", switch, str(process.pid)]
    subprocess.run(command, check=True, capture_output=True)


def instructions_per_request(
    checkout: Path, path: str, count: int, database: str, loop: str
) -> float:
    with tempfile.TemporaryDirectory() as temp:
        signals = Path(temp)
        output = signals / "callgrind.out"
        log = signals / "log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--instr-atstart=no",
                    f"--callgrind-out-file={output}",
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--child",
                    path,
                    str(count),
                    str(signals),
                    database,
                    loop,
                ],
                cwd=checkout,
                env={**os.environ, "PYTHONPATH": str(checkout), "PYTHONHASHSEED": "0"},
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
            try:
                # Counted only between "ready" (the app built and warmed up) and "done".
                _wait_for(signals / "ready", process, log)
                _instrument(process, "on")
                (signals / "go").touch()
                _wait_for(signals / "done", process, log)
                _instrument(process, "off")
                (signals / "stop").touch()
                process.wait(timeout=600)
            finally:
                if process.poll() is None:
                    process.kill()
        totals = [
            line.split()[1]
            for line in output.read_text().splitlines()
            if line.startswith("totals:")
        ]
        return int(totals[0]) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", default=str(REPO))
    parser.add_argument("--path", default="/account")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, count, signals, database, loop = args.child
        _child(path, int(count), Path(signals), database, loop)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("bench/instructions.py needs Valgrind: apt-get install -y valgrind")
    checkouts = [Path(name).resolve() for name in args.checkouts.split(",")]
    counts = [
        instructions_per_request(checkout, args.path, args.requests, args.database, args.loop)
        for checkout in checkouts
    ]
    print(
        f"{args.path} on {args.database}, {args.requests} requests in process on {args.loop}"
        " (callgrind):"
    )
    for checkout, count in zip(checkouts, counts, strict=True):
        print(
            f"  {checkout}: {count / 1e6:.3f} M instructions a request"
            f"  ({count / counts[0]:.3f} of the first)"
        )


if __name__ == "__main__":
    main()
