"""JAGS command scripts (``testN.cmd``): what to run, read into plain data.

The commands of the classic BUGS test scripts: ``model in FILE``, ``data in FILE``,
``compile, nchains(N)``, ``inits in FILE`` / ``parameters in FILE``, ``initialize``,
``update N``, ``monitor NAME[, thin(K)]``, ``coda *`` / ``coda NAME``, ``load MODULE``,
``exit``, and ``/* */`` comments. File names may be quoted; they are relative to the
script's folder. Updates before the first ``monitor`` are the burn-in; updates after it
are sampling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Source, Span, UsageError

_COMMAND = re.compile(r"^\s*(\w+)\s*(.*?)\s*$")


@dataclass
class Script:
    path: Path
    model: Path | None = None
    data: list[Path] = field(default_factory=list)
    inits: list[Path] = field(default_factory=list)
    chains: int = 1
    burn: int = 0
    iterations: int = 0
    thin: int = 1
    monitors: list[str] = field(default_factory=list)
    coda: list[str] = field(default_factory=list)  # '*' or names
    modules: list[str] = field(default_factory=list)


def _file(argument: str, folder: Path) -> Path:
    return folder / argument.strip().strip('"').strip("'")


def read_script(path: str | Path) -> Script:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise UsageError(f"cannot read the script '{path}': {error.strerror}") from None
    source = Source(str(path), text)
    # Blank out comments but keep line numbers for errors.
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    script, monitoring = Script(path), False
    for number, line in enumerate(text.split("\n"), start=1):
        match = _COMMAND.match(line)
        if not match:
            continue
        command, rest = match.groups()

        def fail(message):
            raise UsageError(message, Span(source, number, 1, number, len(line) + 1))

        if command in ("model", "data", "inits", "parameters"):
            where = re.match(r"in\s+(.+)$", rest)
            if not where:
                fail(f"'{command}' needs 'in FILE'")
            file = _file(where.group(1), path.parent)
            if command == "model":
                script.model = file
            elif command == "data":
                script.data.append(file)
            else:
                script.inits.append(file)
        elif command == "compile":
            chains = re.search(r"nchains\s*\(\s*(\d+)\s*\)", rest)
            script.chains = int(chains.group(1)) if chains else 1
        elif command == "update":
            if not rest.isdigit():
                fail(f"'update' needs a number of iterations, not '{rest}'")
            if monitoring:
                script.iterations += int(rest)
            else:
                script.burn += int(rest)
        elif command == "monitor":
            node = re.match(r"(.+?)(?:\s*,\s*thin\s*\(\s*(\d+)\s*\))?$", rest)
            if not node or not node.group(1):
                fail("'monitor' needs a node name")
            script.monitors.append(node.group(1).strip())
            if node.group(2):
                script.thin = int(node.group(2))
            monitoring = True
        elif command == "coda":
            script.coda.append(rest or "*")
        elif command == "load":
            script.modules.append(rest)
        elif command in ("initialize", "exit"):
            continue
        else:
            fail(f"unknown command '{command}' in a JAGS script")
    if script.model is None:
        raise UsageError(f"the script '{path}' names no model ('model in FILE')")
    return script
