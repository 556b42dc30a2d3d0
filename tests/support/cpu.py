"""CPU seconds of processes, from /proc: what the browser benchmarks print beside their rates,
because CPU per byte stays steady when other work shares the cores and throughput does not."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def browser_cpu_seconds() -> float:
    """CPU seconds so far of every Chromium process this process started (its descendants
    named chromium: browser, renderer with its Workers, network service, GPU)."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        names[int(entry.name)] = text[text.index("(") + 1 : text.rindex(")")]
        children.setdefault(int(text.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    total, queue = 0.0, list(children.get(os.getpid(), []))
    while queue:
        pid = queue.pop()
        queue.extend(children.get(pid, []))
        if names.get(pid, "").startswith("chrom"):
            with contextlib.suppress(OSError):  # ended meanwhile
                total += cpu_seconds(pid)
    return total
