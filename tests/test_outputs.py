"""Outputs, the summary, JAGS scripts and the Python API, in process (the command line itself
is in test_cli.py).

Runs are short and seeded; the models use conjugate updates only, so they are quick.
"""

from __future__ import annotations

import signal

import arviz
import numpy as np
import pandas
import pytest

from hiergraph import compile_model, sampling
from hiergraph.engine import Draws
from hiergraph.errors import DataFileError, UsageError
from hiergraph.inference_data import from_inference_data, loop_dimension_names, to_inference_data
from hiergraph.jags_script import read_script
from hiergraph.outputs import Output, read_draws
from hiergraph.summary import ESS_LIMIT, FOLD_HEAD, RHAT_LIMIT, summarise

# theta[j] and y[j] run over j; the prior mean mu is shared
HIERARCHY = """model {
  for (j in 1:J) {
    y[j] ~ dnorm(theta[j], 1)
    theta[j] ~ dnorm(mu, 1)
  }
  mu ~ dnorm(0, 0.01)
}
"""
Y = [0.5, -1.0, 2.0, 1.5]


def hierarchy(**extra):
    return compile_model(HIERARCHY, data={"y": np.array(Y), "J": 4.0, **extra})


# --- InferenceData --------------------------------------------------------------------------

def test_sample_returns_inference_data_with_named_dimensions():
    idata = hierarchy().sample(chains=2, burn=10, iter=25, seed=3)
    assert isinstance(idata, arviz.InferenceData)
    assert set(idata.groups()) == {"posterior", "sample_stats", "observed_data", "constant_data"}
    theta = idata.posterior["theta"]
    assert theta.dims == ("chain", "draw", "j")  # named after the loop, not theta_dim_0
    assert list(theta.coords["j"].values) == [1, 2, 3, 4]  # JAGS's indices
    assert idata.posterior["mu"].dims == ("chain", "draw")
    assert idata.observed_data["y"].dims == ("j",)
    np.testing.assert_array_equal(idata.observed_data["y"].values, Y)
    assert float(idata.constant_data["J"]) == 4.0
    assert idata.sample_stats["deviance"].shape == (2, 25)
    assert list(idata.posterior.coords["iteration"].values) == list(range(11, 36))
    assert idata.posterior.attrs["seed"] == 3


def test_inference_data_holds_exactly_the_draws():
    model = hierarchy()
    draws = model.draws(chains=2, burn=10, iter=20, seed=4, monitor=["theta", "mu", "deviance"])
    idata = model.inference_data(draws)
    for j in range(1, 5):
        np.testing.assert_array_equal(idata.posterior["theta"].sel(j=j).values, draws[f"theta[{j}]"])
    # the deviance is in sample_stats always, and in the posterior when it is monitored
    np.testing.assert_array_equal(idata.sample_stats["deviance"].values, draws["deviance"])
    np.testing.assert_array_equal(idata.posterior["deviance"].values, draws["deviance"])
    back = from_inference_data(idata)
    assert back.labels == draws.labels
    np.testing.assert_array_equal(back.values, draws.values)
    np.testing.assert_array_equal(back.iterations, draws.iterations)


def test_the_deviance_is_recorded_when_not_monitored():
    model = hierarchy()
    without = model.draws(chains=2, burn=5, iter=10, seed=5, monitor=["mu"])
    with_it = model.draws(chains=2, burn=5, iter=10, seed=5, monitor=["mu", "deviance"])
    assert without.labels == ["mu"]
    np.testing.assert_array_equal(without.deviance, with_it["deviance"])
    np.testing.assert_array_equal(without["mu"], with_it["mu"])


def test_partial_monitors_keep_their_indices():
    idata = hierarchy().sample(chains=1, burn=5, iter=5, seed=6, monitor=["theta[2:3]", "theta[4]"])
    assert list(idata.posterior["theta"].coords["j"].values) == [2, 3, 4]


def test_a_partly_observed_matrix_stays_flat_rather_than_padded():
    model = compile_model("model { for (i in 1:2) { for (k in 1:3) { Y[i,k] ~ dnorm(mu, 1) } }\n"
                          " mu ~ dnorm(0, 1) }",
                          data={"Y": np.array([[1.0, np.nan, 2.0], [np.nan, 0.5, np.nan]])})
    draws = model.draws(chains=2, burn=5, iter=6, seed=1)
    idata = model.inference_data(draws)
    assert idata.posterior["Y"].dims == ("chain", "draw", "Y_element")
    assert list(idata.posterior["Y"].coords["Y_element"].values) == ["2,1", "1,2", "2,3"]
    observed = idata.observed_data["Y"]
    assert observed.dims == ("i", "k")
    assert np.isnan(observed.values[1, 0]) and observed.values[0, 2] == 2.0
    assert from_inference_data(idata).labels == draws.labels


def test_labels_that_fill_no_grid_round_trip():
    draws = _draws(np.arange(12.0).reshape(2, 2, 3), ["Y[1,2]", "Y[1]", "s"])  # as CODA may hold
    back = from_inference_data(to_inference_data(draws))
    assert back.labels == draws.labels
    np.testing.assert_array_equal(back.values, draws.values)


def test_dimension_names_that_clash_are_made_unique():
    model = compile_model("model { for (i in 1:N) { y[i] ~ dnorm(a[i], 1)\n a[i] ~ dnorm(0, 1) }\n"
                          " for (i in 1:K) { b[i] ~ dnorm(0, 1) } }",
                          data={"y": np.zeros(3), "N": 3.0, "K": 2.0})
    posterior = model.sample(chains=1, burn=2, iter=3, seed=1).posterior
    assert posterior["a"].dims[2:] != posterior["b"].dims[2:]  # i over 1:3 and i over 1:2
    assert {posterior["a"].dims[2], posterior["b"].dims[2]} == {"a_i", "b_i"}


def test_a_constant_index_does_not_hide_the_loop_name():
    model = compile_model("model { x[1] ~ dnorm(0, 1)\n for (t in 2:T) { x[t] ~ dnorm(x[t-1], 1) }\n"
                          " for (t in 1:T) { z[t] ~ dnorm(x[t], 1) } }",
                          data={"z": np.zeros(4), "T": 4.0})
    assert loop_dimension_names(model.graph)["x"] == ["t"]


# --- the summary ----------------------------------------------------------------------------

def _draws(values: np.ndarray, labels=None) -> Draws:
    labels = labels or [f"x[{k + 1}]" for k in range(values.shape[2])]
    return Draws(labels, values, np.arange(1, values.shape[1] + 1), 1, values.shape[0])


def test_summary_diagnostics_are_arviz_s():
    rng = np.random.default_rng(1)
    values = np.cumsum(rng.normal(size=(3, 200, 2)), axis=1)  # random walks: poorly mixed
    summary = summarise(_draws(values))
    reference = arviz.summary(arviz.convert_to_dataset({"x": values}), round_to="none")
    for k in range(2):
        row = reference.iloc[k]
        expected = [row["mcse_mean"], row["ess_bulk"], row["ess_tail"], row["r_hat"]]
        np.testing.assert_allclose(summary.stats[k, 5:], expected, rtol=1e-12)
        np.testing.assert_allclose(summary.stats[k, :2], [row["mean"], row["sd"]], rtol=1e-12)


def test_summary_warns_of_chains_that_disagree_and_of_few_effective_draws():
    rng = np.random.default_rng(2)
    good = rng.normal(size=(4, 500, 1))
    bad = good + np.arange(4)[:, None, None]  # each chain somewhere else
    summary = summarise(_draws(np.concatenate([good, bad], axis=2), ["good", "bad"]))
    warnings = summary.warnings()
    assert len(warnings) == 2
    assert warnings[0].startswith(f"warning: R-hat above {RHAT_LIMIT} for 1 of 2 values (highest: bad")
    assert f"effective sample size below {ESS_LIMIT} for 1 of 2 values (lowest: bad" in warnings[1]
    assert summarise(_draws(good, ["good"])).warnings() == []


def test_summary_folds_large_arrays_without_hiding_a_bad_element():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(4, 300, 30))
    values[:, :, 10] += np.arange(4)[:, None]  # x[11], a folded row, has not converged
    summary = summarise(_draws(values))
    lines = summary.table().splitlines()
    shown = [line.split()[0] for line in lines[1:] if line.startswith("x[")]
    assert shown == [f"x[{k}]" for k in range(1, FOLD_HEAD + 1)] + ["x[30]"]
    fold = next(line for line in lines if "more x" in line)
    worst = summary.stats[10, 8]
    assert f"{30 - FOLD_HEAD - 1} more x (x[{FOLD_HEAD + 1}] to x[29]): R-hat at most {worst:.3f}" in fold
    assert len(summary.table(fold=False).splitlines()) == 31
    assert "x[11]" in summary.warnings()[0]


# --- outputs --------------------------------------------------------------------------------

def test_every_format_reads_back_the_same_draws(tmp_path):
    model = hierarchy()
    draws = model.draws(chains=2, burn=5, iter=30, seed=8, monitor=["mu", "theta[1:2]"],
                        out=tmp_path, formats=("coda", "csv", "netcdf"))
    for name in ("CODAindex.txt", "draws.csv", "draws.nc"):
        back, source = read_draws(tmp_path / name)
        assert source == tmp_path / name
        assert back.labels == draws.labels == ["mu", "theta[1]", "theta[2]"]
        np.testing.assert_allclose(back.values, draws.values, rtol=1e-9, atol=0)
    assert read_draws(tmp_path)[1].suffix in (".txt", ".csv", ".nc")  # the newest of them


def test_csv_quotes_labels_with_commas(tmp_path):
    model = compile_model("model { for (i in 1:2) { for (k in 1:2) { Y[i,k] ~ dnorm(0, 1) } } }")
    draws = model.draws(chains=2, burn=0, iter=3, seed=1, out=tmp_path, formats="csv")
    table = pandas.read_csv(tmp_path / "draws.csv")
    assert list(table.columns) == ["chain", "draw", "Y[1,1]", "Y[2,1]", "Y[1,2]", "Y[2,2]"]
    assert list(table["chain"]) == [1, 2] * 3 and list(table["draw"]) == [1, 1, 2, 2, 3, 3]
    np.testing.assert_array_equal(table[table.chain == 2]["Y[2,1]"], draws["Y[2,1]"][1])


def test_a_new_run_replaces_the_old_one_s_files(tmp_path):
    model = hierarchy()
    model.draws(chains=3, burn=0, iter=4, seed=1, monitor="mu", out=tmp_path)
    model.draws(chains=2, burn=0, iter=4, seed=1, monitor="mu", out=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CODAchain1.txt", "CODAchain2.txt",
                                                         "CODAindex.txt"]


def test_an_unwritable_folder_fails_before_sampling(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(sampling, "run", lambda *a, **k: pytest.fail("sampled anyway"))
    with pytest.raises(UsageError, match="cannot write to the output folder"):
        hierarchy().draws(chains=1, burn=0, iter=5, out=tmp_path / "file" / "out")


def _stopping_run(after: int, stop):
    """engine.run, with ``stop()`` called once ``after`` draws have been made."""
    real = sampling.run

    def run(*args, on_draw, **kwargs):
        def counted(iteration, row):
            on_draw(iteration, row)
            if iteration - kwargs["burn"] == after:
                stop()
        return real(*args, on_draw=counted, **kwargs)
    return run


def test_ctrl_c_stops_between_sweeps_and_keeps_the_draws(tmp_path, monkeypatch):
    model = hierarchy()
    full = model.draws(chains=2, burn=3, iter=7, seed=9, monitor=["mu"])
    monkeypatch.setattr(sampling, "run", _stopping_run(7, lambda: signal.raise_signal(signal.SIGINT)))
    before = signal.getsignal(signal.SIGINT)  # the default, or SIG_IGN in a background job
    with pytest.raises(sampling.SamplingInterrupted, match="stopped after 7 of 50 draws") as stop:
        model.draws(chains=2, burn=3, iter=50, seed=9, monitor=["mu"], out=tmp_path,
                    formats=("coda", "csv", "netcdf"))
    assert isinstance(stop.value, KeyboardInterrupt)
    kept = stop.value.draws
    assert kept.values.shape == (2, 7, 1)
    np.testing.assert_array_equal(kept.values, full.values)
    for name in ("CODAindex.txt", "draws.csv", "draws.nc"):
        np.testing.assert_allclose(read_draws(tmp_path / name)[0].values, full.values, rtol=1e-9)
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


def test_a_killed_run_keeps_its_last_checkpoint(tmp_path, monkeypatch):
    class Killed(Exception):
        pass

    def kill():
        raise Killed
    monkeypatch.setattr(sampling, "CHECKPOINT_SECONDS", 0.0)  # a checkpoint after every draw
    monkeypatch.setattr(sampling, "CHECKPOINT_RATIO", 0)
    monkeypatch.setattr(sampling, "run", _stopping_run(12, kill))
    with pytest.raises(Killed):
        hierarchy().draws(chains=2, burn=3, iter=50, seed=9, monitor=["mu"], out=tmp_path,
                          formats=("coda", "csv", "netcdf"))
    for name in ("CODAindex.txt", "draws.csv", "draws.nc"):
        assert read_draws(tmp_path / name)[0].values.shape == (2, 12, 1), name


def test_reading_back_mistakes(tmp_path):
    with pytest.raises(UsageError, match="no saved draws in"):
        read_draws(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        read_draws(tmp_path / "nowhere")
    (tmp_path / "draws.csv").write_text("a,b\n1,2\n")
    with pytest.raises(UsageError, match="first columns are not 'chain' and 'draw'"):
        read_draws(tmp_path)
    with pytest.raises(UsageError, match="unknown output format 'xls'"):
        Output(tmp_path, ("xls",))


# --- the Python API -------------------------------------------------------------------------

def test_data_from_a_data_frame_and_a_dict():
    frame = pandas.DataFrame({"y": Y})
    model = compile_model(HIERARCHY, data=[frame, {"J": 4}])
    np.testing.assert_array_equal(model.graph.arrays["y"].data, Y)
    with pytest.raises(UsageError, match="'J' is given twice in the data"):
        compile_model(HIERARCHY, data=[frame, {"J": 4}, {"J": 4}])
    with pytest.raises(UsageError, match="column 'name' is not numbers"):
        compile_model(HIERARCHY, data=[frame.assign(name=list("abcd")), {"J": 4}])


def test_data_files_given_twice_still_point_at_both(tmp_path):
    for name in ("a.R", "b.R"):
        (tmp_path / name).write_text('"J" <- 4\n')
    with pytest.raises(DataFileError) as error:
        compile_model(HIERARCHY, data=[tmp_path / "a.R", tmp_path / "b.R"])
    assert str(error.value).startswith(f"{tmp_path / 'b.R'}:1:1: error: 'J' is given twice")


def test_each_monitored_value_is_kept_once():
    draws = hierarchy().draws(chains=1, burn=0, iter=3, seed=1, monitor=["theta[2]", "theta", "mu"])
    assert draws.labels == ["theta[2]", "theta[1]", "theta[3]", "theta[4]", "mu"]


def test_samplers_print_the_plan():
    assert "conjugate" in str(hierarchy().samplers)


def test_check_report_counts_nodes():
    assert hierarchy().check().unobserved == 5


# --- JAGS scripts ---------------------------------------------------------------------------

def test_script_commands(tmp_path):
    script = tmp_path / "run.cmd"
    script.write_text("/* a comment\n   over lines */\nload dic\nmodel in 'm.bug'\n"
                      "data in \"d.R\"\ncompile, nchains(3)\nparameters in i.R\ninitialize\n"
                      "adapt 50\nupdate 100, by(10)\nmonitor set theta, thin(5)\n"
                      "monitor mu , thin(5)\nupdate 1000\ncoda theta, stem('run1')\ncoda *\nexit\n")
    s = read_script(script)
    assert (s.model, s.data, s.inits) == (tmp_path / "m.bug", [tmp_path / "d.R"], [tmp_path / "i.R"])
    assert (s.chains, s.burn, s.iterations, s.thin) == (3, 150, 1000, 5)
    assert s.monitors == ["theta", "mu"]
    assert s.coda == [(("theta",), "run1"), (None, "CODA")]
    assert s.notes == ["note: 'load dic' accepted: hiergraph has no modules; its samplers and the "
                       "deviance are built in"]
    options = s.sampling(tmp_path / "out")
    assert [(o.stem, o.nodes) for o in options["out"]] == [("run1", ("theta",)), ("CODA", None)]


@pytest.mark.parametrize("line, says", [
    ("monitor mu, thin(2)", "3:1: error: hiergraph thins every monitor alike, and line 2 asks for thin(5)"),
    ("upate 10", "3:1: error: unknown command 'upate' in a JAGS script"),
    ("update ten", "3:1: error: 'update' needs a number of iterations, not 'ten'"),
])
def test_script_mistakes_point_at_the_line(tmp_path, line, says):
    script = tmp_path / "run.cmd"
    script.write_text(f"model in m.bug\nmonitor theta, thin(5)\n{line}\n")
    with pytest.raises(UsageError) as error:
        read_script(script)
    assert str(error.value).startswith(f"{script}:{says}")


def test_a_script_writes_only_the_nodes_its_coda_command_names(tmp_path):
    (tmp_path / "m.bug").write_text(HIERARCHY)
    (tmp_path / "d.R").write_text('"y" <- c(0.5, -1, 2, 1.5)\n"J" <- 4\n')
    (tmp_path / "run.cmd").write_text("model in m.bug\ndata in d.R\ncompile, nchains(2)\n"
                                      "initialize\nupdate 5\nmonitor theta\nmonitor mu\n"
                                      "update 10\ncoda mu, stem(only_mu)\ncoda *\n")
    script = read_script(tmp_path / "run.cmd")
    draws = script.compile().draws(**script.sampling(tmp_path), seed=1)
    assert len(draws.labels) == 5
    assert read_draws(tmp_path / "only_muindex.txt")[0].labels == ["mu"]
    assert read_draws(tmp_path / "CODAindex.txt")[0].labels == draws.labels
