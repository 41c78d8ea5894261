"""Recording a benchmark's table in RESULTS.md, one section per benchmark script."""

from __future__ import annotations

import os
import platform
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def record(heading: str, text: str) -> None:
    """Replace the section ``## heading`` of RESULTS.md with ``text``, keeping the others."""
    heading = f"## {heading}"
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    before, _, after = old.partition(heading)
    rest = after.split("\n## ", 1)
    tail = "\n## " + rest[1] if len(rest) > 1 else ""
    RESULTS.write_text(before.rstrip() + "\n\n" + heading + "\n\n" + text + "\n" + tail)
