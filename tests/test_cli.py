"""The command line as a user runs it: a subprocess per command.

One sampling run (all three formats) is shared by the tests that read its outputs; runs are
short and seeded, and the model's updates are all conjugate, so each takes seconds.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import arviz
import numpy as np
import pandas
import pytest

from hiergraph import __version__, compile_model
from hiergraph.cli import main
from hiergraph.coda import read_coda

from conftest import classic_bugs, run_cli

MODEL = """model {
  for (j in 1:J) {
    y[j] ~ dnorm(theta[j], 1)
    theta[j] ~ dnorm(mu, tau)
  }
  mu ~ dnorm(0, 0.01)
  tau ~ dgamma(1, 1)
}
"""
DATA = '"y" <- c(0.5, -1, 2, 1.5)\n"J" <- 4\n'
RUN = ["--chains", 2, "--burn", 50, "--iter", 200, "--seed", 7]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    (folder / "model.bug").write_text(MODEL)
    (folder / "data.R").write_text(DATA)
    return folder


@pytest.fixture(scope="module")
def sampled(files):
    """``hiergraph sample`` with every format, a range monitor and the deviance."""
    result = run_cli("sample", files / "model.bug", "--data", files / "data.R", *RUN,
                     "--monitor", "mu", "--monitor", "theta[2:3]", "--monitor", "deviance",
                     "--out", files / "out", "--format", "coda", "--format", "csv",
                     "--format", "netcdf")
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def api(files):
    """The same run through the Python API."""
    return compile_model(str(files / "model.bug"), data=str(files / "data.R")).sample(
        chains=2, burn=50, iter=200, seed=7, monitor=["mu", "theta[2:3]", "deviance"])


def test_coda_agrees_with_the_api_s_inference_data(sampled, files, api):
    coda = read_coda(files / "out")
    assert list(coda) == ["mu", "theta[2]", "theta[3]", "deviance"]
    np.testing.assert_allclose(coda["mu"], api.posterior["mu"].values, rtol=1e-9)
    for j in (2, 3):
        np.testing.assert_allclose(coda[f"theta[{j}]"], api.posterior["theta"].sel(j=j).values,
                                   rtol=1e-9)
    np.testing.assert_allclose(coda["deviance"], api.sample_stats["deviance"].values, rtol=1e-9)


def test_netcdf_opens_in_arviz(sampled, files, api):
    idata = arviz.from_netcdf(files / "out" / "draws.nc")
    assert {"posterior", "sample_stats", "observed_data"} <= set(idata.groups())
    assert idata.posterior["theta"].dims == ("chain", "draw", "j")
    assert list(idata.posterior["theta"].coords["j"].values) == [2, 3]
    np.testing.assert_array_equal(idata.posterior["theta"].values, api.posterior["theta"].values)
    np.testing.assert_array_equal(idata.sample_stats["deviance"].values,
                                  api.sample_stats["deviance"].values)
    np.testing.assert_array_equal(idata.observed_data["y"].values, [0.5, -1, 2, 1.5])
    assert arviz.summary(idata, var_names=["mu"]).loc["mu", "r_hat"] < 1.05


def test_csv_loads_with_pandas(sampled, files, api):
    table = pandas.read_csv(files / "out" / "draws.csv")
    assert list(table.columns) == ["chain", "draw", "mu", "theta[2]", "theta[3]", "deviance"]
    assert len(table) == 2 * 200
    for chain in (1, 2):
        rows = table[table["chain"] == chain]
        assert list(rows["draw"]) == list(range(1, 201))
        np.testing.assert_array_equal(rows["theta[3]"], api.posterior["theta"].sel(j=3).values[chain - 1])


def test_sample_prints_the_summary(sampled):
    lines = sampled.stdout.splitlines()
    assert lines[0].split() == ["node", "mean", "sd", "2.5%", "50%", "97.5%", "mcse_mean",
                                "ess_bulk", "ess_tail", "r_hat"]
    assert [line.split()[0] for line in lines[1:5]] == ["mu", "theta[2]", "theta[3]", "deviance"]
    assert "200 draws per chain from 2 chains (seed 7) of 4 monitored values" in sampled.stdout
    assert sampled.stderr == ""  # stderr is not a terminal: no progress line


@pytest.mark.parametrize("name", ["", "CODAindex.txt", "draws.csv", "draws.nc"])
def test_summary_reads_every_format_back(sampled, files, name):
    result = run_cli("summary", files / "out" / name)
    assert result.returncode == 0, result.stderr
    table = sampled.stdout.split("\n\n")[0]
    assert result.stdout.startswith(table + "\n\n")  # the same table as after sampling


def test_default_monitors_are_the_latent_nodes(files, tmp_path):
    result = run_cli("sample", files / "model.bug", "--data", files / "data.R", *RUN,
                     "--out", tmp_path, "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert list(read_coda(tmp_path)) == ["theta[1]", "theta[2]", "theta[3]", "theta[4]", "mu", "tau"]


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_keeps_the_draws_made_so_far(files, tmp_path, how):
    command = [sys.executable, "-m", "hiergraph", "sample", files / "model.bug", "--data",
               files / "data.R", "--chains", 2, "--burn", 10, "--iter", 10**6, "--seed", 3,
               "--monitor", "mu", "--out", tmp_path, "--format", "coda", "--format", "csv",
               "--format", "netcdf"]
    process = subprocess.Popen(list(map(str, command)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    csv = tmp_path / "draws.csv"
    deadline = time.monotonic() + 100
    while not (csv.exists() and csv.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)  # some sweeps
    process.send_signal(how)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    kept = int(err.split("stopped after ")[1].split()[0])
    assert 0 < kept < 10**6
    assert f"stopped after {kept} of 1000000 draws per chain; they are saved in {tmp_path}" in err
    coda = read_coda(tmp_path)["mu"]
    assert coda.shape == (2, kept)
    netcdf = arviz.from_netcdf(tmp_path / "draws.nc").posterior["mu"].values
    np.testing.assert_allclose(netcdf, coda, rtol=1e-9)
    table = pandas.read_csv(csv)
    assert len(table) == 2 * kept
    np.testing.assert_array_equal(table[table.chain == 2]["mu"], netcdf[1])
    assert f"{kept} draws per chain from 2 chains" in out


def test_run_a_jags_script_as_the_same_sample_line(tmp_path):
    pump = classic_bugs() / "vol1" / "pump"
    (tmp_path / "short.cmd").write_text(
        f'/* pump/test1.cmd, shortened */\nmodel in "{pump / "pump.bug"}"\n'
        f'data in "{pump / "pump-data.R"}"\nload glm\ncompile, nchains(2)\n'
        f'inits in "{pump / "pump-init.R"}"\ninitialize\nupdate 100\nmonitor theta\n'
        f'monitor alpha\nmonitor beta\nupdate 200\ncoda *\nexit\n')
    script = run_cli("run", "short.cmd", "--seed", 5, cwd=tmp_path)
    assert script.returncode == 0, script.stderr
    assert "note: 'load glm' accepted" in script.stderr
    sample = run_cli("sample", pump / "pump.bug", "--data", pump / "pump-data.R", "--inits",
                     pump / "pump-init.R", "--chains", 2, "--burn", 100, "--iter", 200,
                     "--monitor", "theta", "--monitor", "alpha", "--monitor", "beta",
                     "--seed", 5, "--out", tmp_path / "sample", "--quiet")
    assert sample.returncode == 0, sample.stderr
    for name in ("CODAindex.txt", "CODAchain1.txt", "CODAchain2.txt"):  # JAGS's place: the working directory
        assert (tmp_path / name).read_bytes() == (tmp_path / "sample" / name).read_bytes()
    assert len(read_coda(tmp_path)["alpha"][0]) == 200


@pytest.mark.parametrize("args, says", [
    (["sample", "nowhere.bug", "--out", "out"], "model file 'nowhere.bug' does not exist"),
    (["sample", "{model}", "--data", "nowhere.R", "--out", "out"], "data file 'nowhere.R' does not exist"),
    (["sample", "{model}", "--data", "{data}", "--out", "out", "--monitor", "sigma"],
     "cannot monitor 'sigma': there is no such node in the model"),
    (["sample", "{model}", "--data", "{data}", "--out", "out", "--iter", "-5"],
     "iterations must not be negative, not -5"),
    (["sample", "{model}", "--data", "{data}", "--out", "out", "--cores", "0"],
     "cores must be at least 1, not 0"),
    (["sample", "{model}", "--data", "{data}", "--out", "{data}/out"],
     "cannot write to the output folder"),
    (["sample", "{model}", "--data", "{data}", "--out", "out", "--format", "xls"],
     "argument --format: invalid choice: 'xls'"),
    (["summary", "{folder}"], "no saved draws in"),
    (["run", "nowhere.cmd"], "cannot read the script 'nowhere.cmd'"),
])
def test_command_line_mistakes_get_one_line(files, tmp_path, args, says):
    where = {"{model}": files / "model.bug", "{data}": files / "data.R", "{folder}": tmp_path}
    for key, value in where.items():
        args = [a.replace(key, str(value)) for a in args]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode not in (0, 3), result.stderr  # 3 is hiergraph's own bug
    assert says in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_a_script_mistake_points_at_its_line(tmp_path):
    (tmp_path / "bad.cmd").write_text("model in m.bug\nupdate 10\nmonitr theta\n")
    result = run_cli("run", "bad.cmd", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("bad.cmd:3:1: error: unknown command 'monitr' in a JAGS script")


@pytest.mark.parametrize("command", ["check", "compile", "sample", "summary", "run", "graph"])
def test_every_command_s_help_shows_an_example(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert f"example:\n  hiergraph {command} " in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"hiergraph {__version__}\n"
