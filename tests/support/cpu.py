"""CPU seconds of processes, from /proc: what the benchmarks print beside their rates, because
CPU per byte or per request stays steady when other work shares the cores and throughput does
not. One reader of /proc for every bench."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(path: str) -> list[str]:
    """The fields of a /proc stat file after the command name (which may hold spaces)."""
    return Path(path).read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (/proc/<pid>/stat), every thread."""
    fields = _stat_fields(f"/proc/{pid}/stat")
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_seconds_if_running(pid: int) -> float:
    """As :func:`cpu_seconds`, and 0 for a process that has ended."""
    with contextlib.suppress(OSError):
        return cpu_seconds(pid)
    return 0.0


def parent(pid: int) -> int:
    """The process id of ``pid``'s parent (a PostgreSQL backend's is the server's)."""
    return int(_stat_fields(f"/proc/{pid}/stat")[1])


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (uvicorn's workers, for instance)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # ended meanwhile
                if int(_stat_fields(f"{entry}/stat")[1]) == pid:
                    found.append(int(entry.name))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds so far of ``pid`` and its children (a server and its workers)."""
    return sum(cpu_seconds_if_running(each) for each in [pid, *children(pid)])


def thread_times(pid: int) -> list[tuple[int, float]]:
    """(nice, CPU seconds) of each thread of ``pid`` (none if it has ended): threads that lower
    their own priority can be told apart."""
    times = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                fields = _stat_fields(f"{task}/stat")
                times.append((int(fields[16]), (int(fields[11]) + int(fields[12])) / TICKS))
    return times


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent on anything but idling, so far."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / TICKS  # less idle and iowait


def browser_cpu_seconds() -> float:
    """CPU seconds so far of every Chromium process this process started (its descendants
    named chromium: browser, renderer with its Workers, network service, GPU)."""
    by_parent: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        names[int(entry.name)] = text[text.index("(") + 1 : text.rindex(")")]
        by_parent.setdefault(int(text.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    total, queue = 0.0, list(by_parent.get(os.getpid(), []))
    while queue:
        pid = queue.pop()
        queue.extend(by_parent.get(pid, []))
        if names.get(pid, "").startswith("chrom"):
            with contextlib.suppress(OSError):  # ended meanwhile
                total += cpu_seconds(pid)
    return total


def browser_split_cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of every Chromium process this process started, split three ways:
    "page" (each renderer's main thread: the page's JavaScript, its DOM, receiving fetch bodies
    into it), "workers" (Dedicated Worker threads) and "rest" (the browser and network service
    processes, the renderers' other threads: IO, compositor, media)."""
    split = {"page": 0.0, "workers": 0.0, "rest": 0.0}
    by_parent: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        names[int(entry.name)] = text[text.index("(") + 1 : text.rindex(")")]
        by_parent.setdefault(int(text.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    queue = list(by_parent.get(os.getpid(), []))
    while queue:
        pid = queue.pop()
        queue.extend(by_parent.get(pid, []))
        if not names.get(pid, "").startswith("chrom"):
            continue
        with contextlib.suppress(OSError):  # ended meanwhile
            renderer = b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes()
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    text = (task / "stat").read_text()
                    name = text[text.index("(") + 1 : text.rindex(")")]
                    fields = text.rsplit(")", 1)[1].split()
                    seconds = (int(fields[11]) + int(fields[12])) / TICKS
                    if name.startswith("DedicatedWorker"):
                        split["workers"] += seconds
                    elif renderer and int(task.name) == pid:
                        split["page"] += seconds
                    else:
                        split["rest"] += seconds
    return split
