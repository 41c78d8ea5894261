"""JAGS command scripts (``testN.cmd``): what to run, read into plain data.

The commands of the classic BUGS test scripts and of the scripts R2jags and matjags write:
``model in FILE``, ``data in FILE``, ``compile, nchains(N)``, ``inits in FILE`` /
``parameters in FILE``, ``initialize``, ``adapt N`` / ``update N[, by(M)]``,
``monitor [set] NAME[, thin(K)]``, ``coda *`` / ``coda NAME`` (optionally
``, stem(PREFIX)``), ``load MODULE``, ``exit``, and ``/* */`` comments. File names may be
quoted; relative ones are taken from the script's folder. Updates before the first
``monitor`` are the burn-in; updates after it are sampling.

hiergraph runs one thinning interval for all monitors, and needs no modules: ``load glm``
and ``load dic`` are accepted, with a note, since their samplers and the deviance are built
in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .api import Model, compile_model
from .errors import Source, Span, UsageError
from .outputs import Output

_COMMAND = re.compile(r"^\s*(\w+)\s*(.*?)\s*$")
_OPTION = r"\s*,\s*{}\s*\(\s*['\"]?([^'\")]*?)['\"]?\s*\)"


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
    # one entry per 'coda' command: (node names, or None for '*'; the file-name stem)
    coda: list[tuple[tuple[str, ...] | None, str]] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return [f"note: 'load {module}' accepted: hiergraph has no modules; its samplers and the "
                f"deviance are built in" for module in self.modules]

    def compile(self) -> Model:
        """The script's model with its data and initial values."""
        return compile_model(self.model, data=self.data or None, inits=self.inits or None)

    def sampling(self, out=".") -> dict:
        """The script's run as :meth:`Model.draws` options: CODA files where its ``coda``
        commands say, in ``out`` (JAGS writes them in the working directory); a later
        ``coda`` with the same stem replaces an earlier one's files, as in JAGS."""
        outputs = {stem: Output(out, ("coda",), stem, names) for names, stem in self.coda}
        return dict(chains=self.chains, burn=self.burn, iter=self.iterations, thin=self.thin,
                    monitor=self.monitors, out=list(outputs.values()))


def _file(argument: str, folder: Path) -> Path:
    return folder / argument.strip().strip('"').strip("'")


def _option(name: str, rest: str) -> tuple[str, str | None]:
    """``rest`` without its ``, name(value)`` option, and the value (None if absent)."""
    match = re.search(_OPTION.format(name), rest)
    if not match:
        return rest, None
    return (rest[:match.start()] + rest[match.end():]).strip(), match.group(1)


def read_script(path: str | Path) -> Script:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise UsageError(f"cannot read the script '{path}': {error.strerror}") from None
    source = Source(str(path), text)
    # Blank out comments but keep line numbers for errors.
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    script, thin_line = Script(path), None
    for number, line in enumerate(text.split("\n"), start=1):
        match = _COMMAND.match(line)
        if not match:
            continue
        command, rest = match.groups()

        def fail(message):
            column = line.index(command) + 1
            raise UsageError(message, Span(source, number, column, number, len(line.rstrip()) + 1))

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
        elif command in ("update", "adapt"):
            count = _option("by", rest)[0]
            if not count.isdigit():
                fail(f"'{command}' needs a number of iterations, not '{count}'")
            if script.monitors:
                script.iterations += int(count)
            else:
                script.burn += int(count)
        elif command == "monitor":
            name, thin = _option("thin", re.sub(r"^set\s+", "", rest))
            if not name:
                fail("'monitor' needs a node name")
            thin = int(thin) if thin and thin.isdigit() else 1
            if script.monitors and thin != script.thin:
                fail(f"hiergraph thins every monitor alike, and line {thin_line} asks for "
                     f"thin({script.thin}); give every monitor the same thin()")
            script.monitors.append(name)
            script.thin, thin_line = thin, number
        elif command == "coda":
            names, stem = _option("stem", rest)
            script.coda.append((None if names in ("", "*") else tuple(n.strip() for n in names.split(",")),
                                stem or "CODA"))
        elif command == "load":
            script.modules.append(rest)
        elif command not in ("initialize", "exit"):
            fail(f"unknown command '{command}' in a JAGS script")
    if script.model is None:
        raise UsageError(f"the script '{path}' names no model ('model in FILE')")
    return script
