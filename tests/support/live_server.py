"""The portal as a real server process, for the browser tests.

``portal serve`` runs as a subprocess on a free port on 127.0.0.1, with the test's own
database and data folder. Its standard output and error go to files in the data folder, so a
failing test can show them and :meth:`LiveServer.setup_link` can read the first-run setup link
the server prints.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.env import portal_env
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
# A server answers within a second or two; the margin is for a machine shared with other work
# (two workers on a loaded 2-core machine took over 20 s to start), where a shorter wait
# failed tests that had found nothing wrong. A server that never answers still fails.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0

# `portal serve` prints a line such as "Set up the first account: http://.../setup#token=...".
SETUP_LINK = re.compile(r"https?://[^\s\"'<>]+/setup#token=[^\s\"'<>]+")


class LiveServerError(RuntimeError):
    """The server did not start, or stopped when it should not have."""


def portal_command() -> Path:
    """The ``portal`` script of the virtual environment running the tests."""
    for candidate in (Path(sys.executable).parent / "portal", REPO / ".venv" / "bin" / "portal"):
        if candidate.exists():
            return candidate
    raise LiveServerError("no `portal` command next to Python: run ./scripts/install.sh")


def tail(path: Path, limit: int = 6000) -> str:
    if not path.exists():
        return f"({path.name} was not written)"
    text = path.read_text(errors="replace")
    return text if len(text) <= limit else "...\n" + text[-limit:]


@dataclass
class LiveServer:
    """One running ``portal serve``; stopped by the fixture that made it."""

    base_url: str
    port: int
    data_dir: Path
    database_url: str
    env: dict[str, str]
    stdout_path: Path
    stderr_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    stopped: bool = False

    @property
    def log_path(self) -> Path:
        """The portal's own log file (it writes it under its data folder)."""
        return self.data_dir / "logs" / "portal.log"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def setup_link(self, timeout: float = 10.0) -> str:
        """The first-run setup link the server printed, waiting up to ``timeout`` seconds.

        Read from the captured standard output (and, failing that, standard error).
        """
        deadline = time.monotonic() + timeout
        while True:
            for path in (self.stdout_path, self.stderr_path):
                match = SETUP_LINK.search(path.read_text(errors="replace"))
                if match:
                    return match.group(0).rstrip(".,;:)]")
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise LiveServerError(
                    f"the server printed no /setup#token= link within {timeout:.0f}s\n"
                    f"stdout:\n{tail(self.stdout_path)}\nstderr:\n{tail(self.stderr_path)}"
                )
            time.sleep(0.05)

    def crashed(self) -> bool:
        """True if the process ended although nobody stopped it."""
        return not self.stopped and self.process.poll() is not None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period). Safe to call twice."""
        self.stopped = True
        if self.process.poll() is None:
            # The server runs in its own process group: signal the group, so that any helper it
            # started goes too.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_live_server(
    *,
    data_dir: Path,
    database_url: str,
    env_overrides: dict[str, str],
    label: str,
    serve_args: Sequence[str] = (),
) -> LiveServer:
    """Start ``portal serve`` (with ``serve_args``) and wait for ``GET /healthz`` to answer."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for attempt in range(3):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        # Nothing from the developer's own PORTAL_* settings may leak into the test server.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
        env.update(portal_env(data_dir=data_dir, database_url=database_url, base_url=base_url))
        # Print at once rather than when a buffer fills, so the setup link can be read.
        env["PYTHONUNBUFFERED"] = "1"
        env.update(env_overrides)
        stdout_path = data_dir / f"{label}.stdout.log"
        stderr_path = data_dir / f"{label}.stderr.log"
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [
                    str(portal_command()),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    *serve_args,
                ],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        server = LiveServer(
            base_url=base_url,
            port=port,
            data_dir=data_dir,
            database_url=database_url,
            env=env,
            stdout_path=stdout_path,
            stderr_path=stderr_path,
            process=process,
        )
        try:
            _wait_until_healthy(server)
        except LiveServerError:
            server.stop()
            # Another process took the port between free_port() and the bind: try another.
            if "address already in use" in tail(stderr_path).lower() and attempt < 2:
                continue
            raise
        return server
    raise AssertionError("unreachable")  # pragma: no cover (the loop returns or raises)


def _wait_until_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last_error = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LiveServerError(
                f"`portal serve` exited with {server.process.returncode} before answering"
                f" /healthz\nstdout:\n{tail(server.stdout_path)}\n"
                f"stderr:\n{tail(server.stderr_path)}"
            )
        status, last_error = _health_status(server.port)
        if status == 200:
            return
        time.sleep(0.05)
    raise LiveServerError(
        f"`portal serve` did not answer GET /healthz with 200 within {START_TIMEOUT:.0f}s"
        f" (last: {last_error})\nstdout:\n{tail(server.stdout_path)}\n"
        f"stderr:\n{tail(server.stderr_path)}"
    )


def _health_status(port: int) -> tuple[int | None, str]:
    """GET /healthz once: (status, description). The standard library keeps this harness free
    of the HTTP client the application's tests choose."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2.0)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
    except OSError as error:
        return None, repr(error)
    finally:
        connection.close()
    return response.status, f"HTTP {response.status}"


class LiveServerFactory:
    """Starts servers for one test, all on that test's database and data folder.

    Calling it again (after ``server.stop()``) restarts the portal on the same data, which is
    how a test checks what survives a restart.
    """

    def __init__(
        self, *, data_dir: Path, database_url: str, default_env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.default_env = default_env or {}
        self.servers: list[LiveServer] = []

    def __call__(self, **env_overrides: str) -> LiveServer:
        server = start_live_server(
            data_dir=self.data_dir,
            database_url=self.database_url,
            env_overrides={**self.default_env, **env_overrides},
            label=f"serve-{len(self.servers) + 1}",
        )
        self.servers.append(server)
        return server

    def close(self) -> list[str]:
        """Stop every server; describe any that had crashed on its own."""
        crashes = []
        for server in self.servers:
            if server.crashed():
                crashes.append(
                    f"{server.base_url} exited with {server.process.returncode} during the test"
                    f"\nstderr:\n{tail(server.stderr_path)}"
                )
            server.stop()
        return crashes


def start_bare_app(
    factory: str, env: dict[str, str], output: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """A benchmark's bare reference app (``module:factory``), served as ``portal serve``
    serves (uvicorn, one process) on a free port of 127.0.0.1, once it accepts connections:
    the process and its port. ``output`` keeps what it prints (nowhere if None)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-server-header"]
    with output.open("wb") if output else open(os.devnull, "wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, port
        time.sleep(0.1)
    process.kill()
    raise LiveServerError(f"{factory} did not start")
