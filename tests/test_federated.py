"""Federated learning: FedAvg and DP maths, sites, tracking, registry, both engines, and
that nothing but parameters, counts and metric scalars leaves a site."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_wine

import mlops_jlab as mlops
from mlops_jlab.errors import ConfigurationError, InvalidInput
from mlops_jlab.federation import DPConfig, FedAvg, SiteMessage, fedavg, split_by_column
from mlops_jlab.federation.flower import flower_available
from mlops_jlab.federation.sites import label_distribution
from mlops_jlab.federation.strategy import clip_update, global_norm, pooled_scaler


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


@pytest.fixture(scope="module")
def cancer_sites(cancer) -> dict[str, pd.DataFrame]:
    return split_by_column(cancer, "mean radius", "target", sites=3)


# ---------------------------------------------------------------------- maths
def test_fedavg_is_the_example_weighted_average():
    a = [np.array([[1.0, 2.0]]), np.array([0.0])]
    b = [np.array([[3.0, 6.0]]), np.array([4.0])]
    avg = fedavg([a, b], [1, 3])
    np.testing.assert_allclose(avg[0], [[2.5, 5.0]])
    np.testing.assert_allclose(avg[1], [3.0])
    # through the strategy: updates relative to the current global parameters
    current = [np.zeros((1, 2)), np.zeros(1)]
    new, info = FedAvg().aggregate(current, [SiteMessage.build("a", a, 1),
                                             SiteMessage.build("b", b, 3)])
    np.testing.assert_allclose(new[0], [[2.5, 5.0]])
    assert info["update_norm"] == pytest.approx(global_norm(b))


def test_dp_clips_each_update_and_adds_seeded_noise():
    big, norm = clip_update([np.full(4, 10.0), np.array([5.0])], clip=1.0)
    assert norm == pytest.approx(np.sqrt(4 * 100 + 25))
    assert global_norm(big) == pytest.approx(1.0)
    small, _ = clip_update([np.array([0.1, 0.2])], clip=1.0)
    np.testing.assert_allclose(small[0], [0.1, 0.2])  # shorter than clip: untouched

    current = [np.zeros(3)]
    replies = [SiteMessage.build("a", [np.array([30.0, 0, 0])], 10),
               SiteMessage.build("b", [np.array([0.0, 40.0, 0])], 1000)]
    exact, info = FedAvg(DPConfig(clip=2.0, noise_multiplier=0.0)).aggregate(current, replies)
    # equal weights of the clipped updates: each site moves the average by <= clip / 2
    np.testing.assert_allclose(exact[0], [1.0, 1.0, 0.0])
    assert info["clipped_sites"] == 2 and global_norm(exact) <= 2.0

    noisy = [FedAvg(DPConfig(2.0, 1.0), seed=s).aggregate(current, replies)[0][0]
             for s in (7, 7, 8)]
    np.testing.assert_array_equal(noisy[0], noisy[1])  # same seed, same noise
    assert not np.allclose(noisy[0], noisy[2])
    assert not np.allclose(noisy[0], exact[0])
    noise = noisy[0] - exact[0]
    assert np.abs(noise).max() < 10 * 1.0 * 2.0 / 2  # std = multiplier * clip / sites


def test_pooled_scaler_equals_the_statistics_of_the_pooled_rows():
    rng = np.random.default_rng(0)
    parts = [rng.normal(i, i + 1, size=(20 + 10 * i, 3)) for i in range(3)]
    replies = [SiteMessage.build(f"s{i}", [p.mean(0), p.var(0)], len(p))
               for i, p in enumerate(parts)]
    mean, scale = pooled_scaler(replies)
    pooled = np.vstack(parts)
    np.testing.assert_allclose(mean, pooled.mean(0))
    np.testing.assert_allclose(scale, pooled.std(0))


# ---------------------------------------------------------------------- sites
def test_split_by_column_is_non_iid(cancer, cancer_sites):
    assert list(cancer_sites) == ["mean_radius-q1", "mean_radius-q2", "mean_radius-q3"]
    assert sum(len(f) for f in cancer_sites.values()) == len(cancer)
    shares = [f["target"].mean() for f in cancer_sites.values()]
    assert max(shares) - min(shares) > 0.5  # small tumours benign, large malignant
    table = label_distribution(cancer_sites, "target")
    assert table["rows"].tolist() == [len(f) for f in cancer_sites.values()]

    frame = pd.DataFrame({"region": ["n", "s", "n", "e", "s", "e"], "x": range(6),
                          "y": [0, 1, 0, 1, 1, 0]})
    by_value = split_by_column(frame, "region", "y", drop=True)
    assert list(by_value) == ["region-e", "region-n", "region-s"]
    assert "region" not in by_value["region-n"].columns
    with pytest.raises(InvalidInput, match="no column"):
        split_by_column(frame, "nope")


# ---------------------------------------------------------------------- tracking
@pytest.mark.both_backends
def test_rounds_are_child_runs_with_site_and_global_metrics(mlops_home, cancer_sites):
    result = mlops.federated(cancer_sites, target="target", model="sgd", rounds=3,
                             engine="local", experiment="fed", register="fed-sgd")
    runs = mlops.search_runs("fed")
    parent = runs[runs.run_id == result.run_id].iloc[0]
    assert parent["tags.mlops.runner"] == "federated"
    assert parent["params.rounds"] == "3" and parent["params.engine"] == "local"
    assert parent["params.sites"] == "3" and parent["params.dp"] == "False"
    children = runs[runs.parent_run_id == result.run_id].sort_values(
        "tags.mlops.federated_round")
    assert children["tags.mlops.federated_round"].tolist() == ["1", "2", "3"]
    assert set(children.status) == {"finished"}
    for site in cancer_sites:
        for metric in ("accuracy", "loss", "examples"):
            assert children[f"metrics.site.{site}.{metric}"].notna().all()
    assert children["metrics.global_accuracy"].between(0, 1).all()
    assert children["metrics.global_loss"].notna().all()
    # the global score is the held-out-row-weighted mean of the sites' scores
    last = result.history.iloc[-1]
    names = list(cancer_sites)
    weighted = sum(last[f"site.{s}.accuracy"] * last[f"site.{s}.eval_examples"]
                   for s in names) / sum(last[f"site.{s}.eval_examples"] for s in names)
    assert last["global_accuracy"] == pytest.approx(weighted)

    run = mlops.get_run(result.run_id)
    history = run.metric_history("global_accuracy")
    assert history["step"].tolist() == [1, 2, 3]
    assert history["value"].tolist() == pytest.approx(result.history["global_accuracy"])
    table = pd.read_csv(__import__("io").BytesIO(run.artifact_bytes("federated/rounds.csv")))
    assert table["round"].tolist() == [1, 2, 3]
    chart = json.loads(run.artifact_bytes("charts/rounds.json"))
    assert {t["name"] for t in chart["data"]} >= {*names, "global (accuracy, all sites)"}
    assert "round" in json.dumps(chart["layout"]["xaxis"])
    assert "<table" in result._repr_html_()


@pytest.mark.both_backends
def test_global_model_is_registered_loads_and_predicts(mlops_home, cancer, cancer_sites):
    result = mlops.federated(cancer_sites, target="target", model="logistic", rounds=4,
                             engine="local", register="fed-cancer")
    assert result.model_version.name == "fed-cancer" and result.model_version.version == 1
    loaded = mlops.load_model("models:/fed-cancer/1")
    X = cancer.drop(columns=["target"])
    predicted = loaded.predict(X.head(50))
    np.testing.assert_array_equal(np.asarray(predicted),
                                  result.global_model.predict(X.head(50)))
    assert (np.asarray(loaded.predict(X)) == cancer["target"]).mean() > 0.9


def test_mlp_on_sites_missing_classes(mlops_home):
    wine = load_wine(as_frame=True).frame
    sites = split_by_column(wine, "alcohol", "target", sites=3)
    table = label_distribution(sites, "target")
    assert (table[[0, 1, 2]] == 0).any(axis=None)  # a site without one of the classes
    result = mlops.federated(sites, target="target", model="mlp", rounds=5, engine="local",
                             compare_centralized=True)
    assert result.history["global_accuracy"].iloc[-1] > 0.8
    assert result.global_model.predict_proba(wine.drop(columns="target")).shape == (178, 3)
    assert result.gap is not None and abs(result.gap) < 0.2


def test_federated_accuracy_is_close_to_centralized(mlops_home, cancer_sites):
    result = mlops.federated(cancer_sites, target="target", model="logistic", rounds=8,
                             engine="local", compare_centralized=True)
    assert result.centralized is not None and result.centralized["accuracy"] > 0.9
    assert result.final_score > 0.9
    assert abs(result.gap) < 0.05
    run = mlops.get_run(result.run_id)
    assert run.metrics["accuracy_gap"] == pytest.approx(result.gap)


# ---------------------------------------------------------------------- only parameters
def _data_rows(sites: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([f.drop(columns=["target"]) for f in sites.values()])


def _assert_only_parameters(captured, sites, result, rounds):
    frame = _data_rows(sites)
    standardised = result.global_model.named_steps["scale"].transform(frame)
    rows = frame.to_numpy(float)
    names = set(sites)
    model = result.global_model.named_steps["model"]
    param_shapes = [model.coef_.shape, model.intercept_.shape]
    n_features = rows.shape[1]
    param_bytes = sum(int(np.prod(s)) * 8 for s in param_shapes)
    steps = {"statistics": 0, "train": 0, "evaluate": 0}
    total = 0
    for instruction, message in captured:
        assert isinstance(message, SiteMessage) and message.site in names
        steps[instruction.action] += 1
        shapes = [p.shape for p in message.params]
        if instruction.action == "train":
            assert shapes == param_shapes
        elif instruction.action == "statistics":
            assert shapes == [(n_features,), (n_features,)]
        else:
            assert shapes == []
        assert message.examples >= 1
        assert all(isinstance(v, float) for v in message.metrics.values())
        for array in message.params:
            flat = array.reshape(-1, array.shape[-1]) if array.ndim else array.reshape(1, 1)
            if flat.shape[1] == n_features:
                for row in flat:  # no parameter vector equals a data row, raw or scaled
                    assert not np.isclose(rows, row).all(axis=1).any()
                    assert not np.isclose(standardised, row).all(axis=1).any()
        total += message.nbytes
    assert steps == {"statistics": len(sites), "train": rounds * len(sites),
                     "evaluate": rounds * len(sites)}
    scalars = 8 * 8  # a count and a handful of metrics per message
    bound = len(sites) * (2 * n_features * 8 + rounds * param_bytes + 2 * rounds * scalars)
    assert total <= bound
    assert total < rows.nbytes / 2  # far less than the data itself


def test_only_parameters_leave_a_site_local_engine(mlops_home, cancer_sites):
    captured = []
    result = mlops.federated(cancer_sites, target="target", model="logistic", rounds=3,
                             engine="local",
                             on_message=lambda i, m: captured.append((i, m)))
    _assert_only_parameters(captured, cancer_sites, result, 3)
    assert mlops.get_run(result.run_id).metrics["bytes_received"] == sum(
        m.nbytes for _, m in captured)


@pytest.mark.skipif(not flower_available(), reason="flwr[simulation] not installed")
def test_flower_engine_runs_the_same_federation(mlops_home, cancer_sites):
    """One Flower simulation (Ray actors play the sites): the protocol's messages are
    the only things crossing, and the result equals the in-process engine's."""
    captured = []
    result = mlops.federated(cancer_sites, target="target", model="logistic", rounds=2,
                             engine="flower", register="fed-flower",
                             on_message=lambda i, m: captured.append((i, m)))
    _assert_only_parameters(captured, cancer_sites, result, 2)
    assert result.timings["startup_s"] > 0
    local = mlops.federated(cancer_sites, target="target", model="logistic", rounds=2,
                            engine="local")
    pd.testing.assert_series_equal(result.history["global_accuracy"],
                                   local.history["global_accuracy"])
    assert mlops.get_run(result.run_id).params["engine"] == "flower"
    assert mlops.load_model("models:/fed-flower/1") is not None


@pytest.mark.skipif(not flower_available(), reason="flwr[simulation] not installed")
def test_flower_replies_with_anything_else_are_refused():
    from flwr.app import ArrayRecord, ConfigRecord, MetricRecord, RecordDict

    from mlops_jlab.federation.flower import decode_reply, encode_reply
    from mlops_jlab.federation.server import FederationError

    message = SiteMessage.build("a", [np.ones(3)], 5, {"loss": 0.5})
    decoded = decode_reply(encode_reply(message))
    assert decoded.site == "a" and decoded.examples == 5 and decoded.metrics == {"loss": 0.5}
    smuggled = RecordDict({"params": ArrayRecord([np.ones(3)]),
                           "metrics": MetricRecord({"examples": 5}),
                           "site": ConfigRecord({"name": "a"}),
                           "rows": ArrayRecord([np.ones((5, 3))])})
    with pytest.raises(FederationError, match="only"):
        decode_reply(smuggled)
    extra_config = RecordDict({"params": ArrayRecord([]), "metrics": MetricRecord(
        {"examples": 5}), "site": ConfigRecord({"name": "a", "note": "row 1: 3.2, 4.1"})})
    with pytest.raises(FederationError):
        decode_reply(extra_config)


def test_flower_engine_without_flwr_names_the_extra(mlops_home, cancer_sites, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "flwr", None)  # as if it were not installed
    with pytest.raises(ConfigurationError, match=r"mlops_jlab\[federated\]"):
        mlops.federated(cancer_sites, target="target", rounds=1, engine="flower")
    assert mlops.search_runs().empty  # refused before any run was created


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("change, message", [
    (lambda s: {"only": s["mean_radius-q1"]}, "at least two sites"),
    (lambda s: {**s, "mean_radius-q1": s["mean_radius-q1"].drop(columns="mean area")},
     "different columns"),
    (lambda s: {**s, "mean_radius-q1": s["mean_radius-q1"].iloc[:0]}, "no rows"),
    (lambda s: {**s, "bad name": s["mean_radius-q1"]}, "site name"),
    (lambda s: {**s, "tiny": s["mean_radius-q1"].iloc[:2]}, "at least 2"),
])
def test_bad_sites_are_refused(mlops_home, cancer_sites, change, message):
    with pytest.raises(InvalidInput, match=message):
        mlops.federated(change(cancer_sites), target="target", engine="local", rounds=1)


@pytest.mark.parametrize("options, message", [
    ({"model": "forest"}, "unknown model kind"),
    ({"model": object()}, "cannot federate"),
    ({"rounds": 0}, "rounds"),
    ({"local_epochs": 1.5}, "local_epochs"),
    ({"dp": {"clip": -1}}, "clip must be > 0"),
    ({"dp": {"clip": 1, "sigma": 2}}, "unknown dp"),
    ({"dp": [1, 2]}, "dp must be"),
    ({"engine": "spark"}, "engine"),
    ({"test_size": 1.5}, "test_size"),
    ({"target": None}, "target="),
])
def test_bad_options_are_refused(mlops_home, cancer_sites, options, message):
    kwargs = {"target": "target", "engine": "local", "rounds": 1, **options}
    with pytest.raises(InvalidInput, match=message):
        mlops.federated(cancer_sites, **kwargs)
    assert mlops.search_runs().empty
