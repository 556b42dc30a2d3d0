"""The server process's set-up (portal/app.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# A statement of the facilitator's home's shape: fifteen parts, each with an IN list and an
# ORDER BY before its LIMIT, so SQLite makes and drops about thirty temporary tables a run.
_SHAPE = textwrap.dedent(
    """
    import resource, sqlite3, sys
    from portal.app import keep_freed_memory

    con = sqlite3.connect(":memory:", isolation_level=None)
    con.execute("CREATE TABLE t (x INTEGER, y INTEGER)")
    con.execute("CREATE TABLE u (y INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(i, i % 7) for i in range(200)])
    con.executemany("INSERT INTO u VALUES (?)", [(i,) for i in range(0, 200, 3)])
    part = (
        "SELECT * FROM (SELECT x FROM t WHERE x IN (SELECT y FROM u WHERE y > ?)"
        " ORDER BY y DESC, x LIMIT 5)"
    )
    sql = " UNION ALL ".join([part] * 15)

    def faults_a_run(runs=50):
        con.execute(sql, [1] * 15).fetchall()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(runs):
            con.execute(sql, [1] * 15).fetchall()
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / runs

    if sys.argv[1] == "kept":
        assert keep_freed_memory()
    print(faults_a_run())
    """
)


def _faults_a_run(mode: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _SHAPE, mode], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_a_server_process_keeps_freed_memory_for_the_next_statement() -> None:
    """Set as ``portal serve`` sets it, the memory SQLite frees at the end of each run of such a
    statement is kept for the next run: no page is taken from the kernel again (by default,
    glibc gave it back and took it again at every run)."""
    assert _faults_a_run("kept") < 1
