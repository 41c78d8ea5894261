"""Write the examples' data files (R dump format) beside their specs.

Run from the top of the clone: ``python3 specs/make_data.py``. Published data sets are read
from ``../shared/data/`` (the CSV files described in EXAMPLES.md); the rest are simulated
here from known parameters with fixed seeds, so the files are reproducible and the truth is
known. The rat-tumour data (``rat_tumors.R``) predate this script and are not rewritten.
"""

from __future__ import annotations

import csv
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
SEED = 2024


def _number(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(round(x, 10))


def _vector(values) -> str:
    values = [_number(v) for v in np.asarray(values).ravel(order="F")]  # R: column-major
    rows = [", ".join(values[i:i + 10]) for i in range(0, len(values), 10)]
    return "c(" + ",\n  ".join(rows) + ")"


def write_rdump(path: Path, comment: str, **values) -> None:
    """``"name" <- value`` lines; arrays of two or more dimensions as ``structure(.Dim=)``."""
    lines = [f"# {line}".rstrip() for line in comment.strip().splitlines()]
    for name, value in values.items():
        value = np.asarray(value)
        if value.ndim == 0:
            text = _number(value)
        elif value.ndim == 1:
            text = _vector(value)
        else:
            text = f"structure({_vector(value)}, .Dim = c({', '.join(map(str, value.shape))}))"
        lines.append(f'"{name}" <- {text}')
    path.write_text("\n".join(lines) + "\n")


def _columns(name: str) -> dict[str, list[str]]:
    with open(SHARED / name, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [row[key] for row in rows] for key in rows[0]}


def eight_schools() -> None:
    data = _columns("eight_schools.csv")
    write_rdump(HERE / "eight_schools.R",
                "Coaching effects in eight schools (Rubin 1981): estimate y[j] with standard error sigma[j].\n"
                "Made from ../shared/data/eight_schools.csv by specs/make_data.py.",
                J=len(data["y"]), y=np.array(data["y"], float), sigma=np.array(data["sigma"], float))


def heart_attack() -> None:
    data = _columns("heart_attack_meta.csv")
    write_rdump(HERE / "heart_attack.R",
                "Six studies' mean differences y[j] with standard deviations sd[j] (Draper 1992).\n"
                "Made from ../shared/data/heart_attack_meta.csv by specs/make_data.py.",
                J=len(data["y"]), y=np.array(data["y"], float), sd=np.array(data["sd"], float))


def morris_baseball() -> None:
    """The first-45 averages, and sigma: the binomial SD at their grand mean."""
    data = _columns("morris_baseball.csv")
    y = np.array(data["avg_first_45"], float)
    grand = y.mean()
    write_rdump(HERE / "morris_baseball.R",
                "Batting averages y[i] of 18 players after their first 45 at-bats of 1970 (Efron and\n"
                "Morris 1975), and sigma = sqrt(m (1 - m) / 45), the binomial SD at their grand mean m.\n"
                "Made from ../shared/data/morris_baseball.csv by specs/make_data.py; the season\n"
                "averages, the truth to score against, are in morris_baseball.csv beside it.",
                N=len(y), y=y, sigma=round(float(np.sqrt(grand * (1 - grand) / 45)), 5))
    (HERE / "morris_baseball.csv").write_text((SHARED / "morris_baseball.csv").read_text())


def kidney_cancer(rng: np.random.Generator) -> None:
    """Counties with populations from 300 to a million, rates per 100,000 from gamma(20, 2)."""
    J = 200
    population = np.round(np.exp(rng.uniform(np.log(300), np.log(1e6), J)))
    theta = rng.gamma(20.0, 1 / 2.0, J)
    n = population / 1e5
    y = rng.poisson(n * theta)
    write_rdump(HERE / "kidney_cancer.R",
                "Simulated by specs/make_data.py (seed 2024): deaths y[j] in county j of n[j] hundred\n"
                "thousand people, from rates theta[j] ~ gamma(20, 2) per 100,000 (mean 10).",
                J=J, y=y, n=n)


def normal_nig(rng: np.random.Generator) -> None:
    y = rng.normal(3.0, 2.0, 20)
    write_rdump(HERE / "normal_nig.R",
                "Simulated by specs/make_data.py (seed 2024): 20 draws from N(3, 2^2), and the\n"
                "normal-inverse-gamma prior's constants.",
                N=len(y), y=np.round(y, 4), mu0=0, tau0sq=10, alpha=2, beta=2)


def three_level(rng: np.random.Generator) -> None:
    """Pupils k in classrooms j in schools i: lambda 50, sds 5 (schools), 3 (classes), 8 (pupils)."""
    S, C, P = 6, 4, 8
    mu = rng.normal(50.0, 5.0, S)
    theta = rng.normal(mu[:, None], 3.0, (S, C))
    y = rng.normal(theta[:, :, None], 8.0, (S, C, P))
    write_rdump(HERE / "three_level.R",
                "Simulated by specs/make_data.py (seed 2024): scores y[i,j,k] of pupil k in classroom j\n"
                "of school i; school means ~ N(50, 5^2), classroom means ~ N(school, 3^2), pupils\n"
                "~ N(classroom, 8^2).",
                S=S, C=C, P=P, y=np.round(y, 2))


def sleep_study(rng: np.random.Generator) -> None:
    """Reaction times of 18 subjects over 10 days of sleep deprivation (as in lme4's sleepstudy)."""
    N, D = 18, 10
    alpha = rng.normal(250.0, 25.0, N)
    beta = rng.normal(10.0, 6.0, N)
    day = np.arange(D)
    y = rng.normal(alpha[:, None] + beta[:, None] * day, 25.0)
    write_rdump(HERE / "sleep_study.R",
                "Simulated by specs/make_data.py (seed 2024): reaction times y[i,d] (ms) of subject i on\n"
                "day d of sleep deprivation; intercepts ~ N(250, 25^2), slopes ~ N(10, 6^2) ms per\n"
                "day, residual sd 25.",
                N=N, D=D, day=day, y=np.round(y, 1))


def kruschke_batting(rng: np.random.Generator) -> None:
    """Players at four positions; each position's ability has its own mode and concentration."""
    omega = np.array([0.13, 0.24, 0.25, 0.26])  # pitchers hit worst
    kappa = np.array([60.0, 150.0, 200.0, 120.0])
    per_position = 25
    pos = np.repeat(np.arange(1, 5), per_position)
    a = omega[pos - 1] * (kappa[pos - 1] - 2) + 1
    b = (1 - omega[pos - 1]) * (kappa[pos - 1] - 2) + 1
    theta = rng.beta(a, b)
    at_bats = rng.integers(20, 600, len(pos))
    hits = rng.binomial(at_bats, theta)
    write_rdump(HERE / "kruschke_batting.R",
                "Simulated by specs/make_data.py (seed 2024): hits y[i] in n[i] at-bats of player i, who\n"
                "plays position pos[i] (1 = pitcher); position modes 0.13, 0.24, 0.25, 0.26 and\n"
                "concentrations 60, 150, 200, 120.",
                N=len(pos), P=4, pos=pos, y=hits, n=at_bats)


def main() -> None:
    eight_schools()
    heart_attack()
    morris_baseball()
    # each simulation its own stream, so changing one leaves the others' data as they were
    for simulate in (kidney_cancer, normal_nig, three_level, sleep_study, kruschke_batting):
        simulate(np.random.default_rng([SEED, zlib.crc32(simulate.__name__.encode())]))


if __name__ == "__main__":
    main()
