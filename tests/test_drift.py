"""The drift engine: test choice, statistics against scipy, notes, streaming, report views."""

from __future__ import annotations

import gc
import json
import weakref

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from mlops_jlab.errors import InvalidInput
from mlops_jlab.monitoring import (
    DriftAccumulator,
    DriftReference,
    default_test,
    drift_report,
    drift_report_stream,
)
from mlops_jlab.monitoring import stattests as st
from mlops_jlab.tracking.datasets import profile_dataframe

SHIFTED = {"mean", "scale", "skewed", "freq", "level"}


def frame(rows: int, seed: int, shifted: bool = False) -> pd.DataFrame:
    """8 numeric + 3 categorical columns; ``shifted`` moves the 5 columns in SHIFTED."""
    rng = np.random.default_rng(seed)
    levels = np.array(["a", "b", "c", "d"], dtype=object)
    p_freq = [0.25, 0.30, 0.20, 0.25] if shifted else [0.40, 0.30, 0.20, 0.10]
    p_level = [0.2] * 5 if not shifted else [0.1, 0.1, 0.1, 0.1, 0.6]
    return pd.DataFrame({
        "mean": rng.normal(0.3 if shifted else 0.0, 1.0, rows),
        "scale": rng.normal(0.0, 1.5 if shifted else 1.0, rows),
        "skewed": rng.exponential(1.4 if shifted else 1.0, rows),
        "steady": rng.normal(10.0, 2.0, rows),
        "uniform": rng.uniform(0, 1, rows),
        "counts": rng.poisson(5, rows).astype(float),
        "binary": rng.integers(0, 2, rows),
        "level": rng.choice([1, 2, 3, 4, 5], size=rows, p=p_level),
        "freq": rng.choice(levels, size=rows, p=p_freq),
        "color": rng.choice(np.array(["red", "green", "blue"], dtype=object), size=rows),
        "flag": rng.random(rows) < 0.3,
    })


@pytest.fixture(scope="module")
def big() -> tuple[pd.DataFrame, pd.DataFrame]:
    return frame(5000, 1), frame(6000, 2, shifted=True)


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame]:
    return frame(800, 3), frame(3000, 4, shifted=True)


# ---------------------------------------------------------------- detection and test choice
@pytest.mark.parametrize("regime", ["big", "small"])
def test_shifted_columns_are_caught_and_unshifted_are_not(regime, request):
    reference, current = request.getfixturevalue(regime)
    report = drift_report(reference, current)
    assert set(report.drifted_columns) == SHIFTED
    assert report.summary["drifted"] == 5 and report.summary["columns"] == 11
    assert report.summary["share"] == pytest.approx(5 / 11)
    assert report.dataset_drift is False
    assert drift_report(reference, current, drift_share=0.4).dataset_drift is True
    same = drift_report(reference, frame(len(current), 99))
    assert same.drifted_columns == []


def test_default_test_follows_evidently_rules(big, small):
    expect_big = {"mean": "wasserstein", "counts": "wasserstein", "binary": "jensenshannon",
                  "level": "jensenshannon", "freq": "jensenshannon", "flag": "jensenshannon"}
    expect_small = {"mean": "ks", "counts": "ks", "binary": "chisquare", "level": "chisquare",
                    "freq": "chisquare", "flag": "chisquare"}
    for (reference, current), expect in ((big, expect_big), (small, expect_small)):
        report = drift_report(reference, current)
        assert {c: report[c].test for c in expect} == expect
    kinds = {c.column: c.kind for c in drift_report(*big).columns}
    assert kinds["counts"] == "numeric" and kinds["level"] == "discrete"
    assert kinds["freq"] == "categorical" and kinds["flag"] == "categorical"


@pytest.mark.parametrize(("rows", "distinct", "test"), [
    (1000, 6, "ks"), (1001, 6, "wasserstein"), (1000, 5, "chisquare"),
    (1001, 5, "jensenshannon")])
def test_default_test_boundaries(rows, distinct, test):
    values = np.arange(rows) % distinct
    ref = DriftReference.from_frame(pd.DataFrame({"x": values.astype(float)}))
    assert default_test(ref.columns["x"]) == test


def test_reference_rows_counted_without_missing():
    values = np.r_[np.arange(1000.0), [np.nan] * 500]
    ref = DriftReference.from_frame(pd.DataFrame({"x": values}))
    assert default_test(ref.columns["x"]) == "ks"


# ---------------------------------------------------------------- statistics against scipy
@pytest.mark.parametrize(("n1", "n2"), [(300, 500), (800, 20_000), (12_000, 15_000)])
def test_ks_matches_scipy(n1, n2):
    rng = np.random.default_rng(n1)
    a = np.round(rng.normal(0, 1, n1), 2)  # ties on purpose
    b = np.round(rng.normal(0.05, 1, n2), 2)
    d = st.ks_statistic_sorted(np.sort(a), np.sort(b))
    expected = stats.ks_2samp(a, b)
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert st.ks_pvalue(d, n1, n2) == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_wasserstein_matches_scipy():
    rng = np.random.default_rng(5)
    a, b = rng.gamma(2, 1, 3000), np.round(rng.gamma(2, 1.1, 2000), 1)
    assert st.wasserstein_sorted(np.sort(a), np.sort(b)) == pytest.approx(
        stats.wasserstein_distance(a, b), rel=1e-10)
    w = rng.random(2000)
    assert st.wasserstein_weighted(a, np.ones(3000), b, w) == pytest.approx(
        stats.wasserstein_distance(a, b, v_weights=w), rel=1e-10)
    report = drift_report(pd.DataFrame({"x": a}), pd.DataFrame({"x": b}))
    assert report["x"].statistic == pytest.approx(
        stats.wasserstein_distance(a, b) / np.std(a), rel=1e-10)


def test_count_tests_match_scipy():
    ref, cur = np.array([40, 30, 20, 10, 0]), np.array([25, 30, 20, 20, 5])
    chi2, p = st.chi_square_homogeneity(ref, cur)
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert (chi2, p) == pytest.approx((expected.statistic, expected.pvalue))
    assert st.jensen_shannon(ref, cur) == pytest.approx(
        distance.jensenshannon(ref / ref.sum(), cur / cur.sum()))
    r, c = np.maximum(ref / 100, 1e-4), np.maximum(cur / 100, 1e-4)
    assert st.psi(ref, cur) == pytest.approx(np.sum((c - r) * np.log(c / r)))
    # two categories: the chi-square test is the two-proportion z-test
    z = stats.norm.sf(abs((0.3 - 0.4) / np.sqrt(0.35 * 0.65 * (1 / 200 + 1 / 200)))) * 2
    assert st.chi_square_homogeneity(np.array([80, 120]), np.array([60, 140]))[1] == \
        pytest.approx(z)


def test_false_positive_rate_near_nominal():
    rng = np.random.default_rng(11)
    cols = 200
    reference = pd.DataFrame(rng.normal(size=(500, cols)), columns=[f"n{i}" for i in range(cols)])
    current = pd.DataFrame(rng.normal(size=(2000, cols)), columns=reference.columns)
    cats = pd.DataFrame({f"c{i}": rng.choice(list("abcd"), size=500) for i in range(cols)})
    cats_cur = pd.DataFrame({f"c{i}": rng.choice(list("abcd"), size=2000) for i in range(cols)})
    ks_rate = drift_report(reference, current).share
    chi_rate = drift_report(cats, cats_cur).share
    assert 0.01 <= ks_rate <= 0.10
    assert 0.01 <= chi_rate <= 0.10
    # a small reference against a much larger window: still near the nominal level
    p = [0.4, 0.3, 0.2, 0.1]
    small_ref = pd.DataFrame({f"c{i}": rng.choice(list("abcd"), size=1000, p=p)
                              for i in range(40)})
    big_cur = pd.DataFrame({f"c{i}": rng.choice(list("abcd"), size=50_000, p=p)
                            for i in range(40)})
    assert drift_report(small_ref, big_cur).share <= 0.15


# ---------------------------------------------------------------- overrides
def test_overrides_per_column(big):
    reference, current = big
    report = drift_report(reference, current, tests={
        "mean": ("psi", 0.01), "steady": "ks", "freq": {"test": "chi2", "threshold": 0.01},
        "counts": ("jensenshannon", 0.5), "level": "wasserstein"})
    assert (report["mean"].test, report["mean"].threshold) == ("psi", 0.01)
    assert report["mean"].statistic == report["mean"].psi
    assert report["mean"].drifted
    assert (report["steady"].test, report["steady"].threshold) == ("ks", 0.05)
    assert (report["freq"].test, report["freq"].threshold) == ("chisquare", 0.01)
    assert report["counts"].test == "jensenshannon" and not report["counts"].drifted
    assert report["level"].test == "wasserstein"
    assert report["scale"].test == "wasserstein"  # untouched
    star = drift_report(reference, current, tests={"*": "psi", "mean": "ks"})
    assert {c.test for c in star.columns if c.column != "mean"} == {"psi"}
    assert star["mean"].test == "ks"
    numeric_star = drift_report(reference, current, tests={"*": "ks"})
    assert numeric_star["freq"].test == "jensenshannon"  # "*" skips where it cannot apply


@pytest.mark.parametrize("tests", [
    {"mean": "t-test"}, {"freq": "ks"}, {"nope": "psi"}, {"mean": ("ks", 1.5)},
    {"mean": ("psi", -1)}, {"mean": ("psi", "high")}, {"mean": 3}])
def test_bad_overrides_are_refused(big, tests):
    with pytest.raises(InvalidInput):
        drift_report(*big, tests=tests)


def test_bad_inputs_are_refused(big):
    reference, current = big
    with pytest.raises(InvalidInput):
        drift_report([1, 2, 3], current)
    with pytest.raises(InvalidInput):
        drift_report(reference, current, drift_share=0)
    with pytest.raises(InvalidInput):
        drift_report(reference, current, kinds={"mean": "text"})
    with pytest.raises(InvalidInput):
        drift_report(reference, current, columns=["nope"])
    with pytest.raises(InvalidInput):
        drift_report_stream(reference, [current, "not a frame"])
    with pytest.raises(InvalidInput):
        drift_report_stream(reference, 42)  # type: ignore[arg-type]


def test_kinds_and_columns(big):
    reference, current = big
    report = drift_report(reference, current, columns=["counts", "freq"],
                          kinds={"counts": "categorical"})
    assert [c.column for c in report.columns] == ["counts", "freq"]
    assert report["counts"].kind == "categorical"
    assert report["counts"].test == "jensenshannon"


# ---------------------------------------------------------------- awkward data
def test_missing_values_and_new_categories_are_reported():
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(list("abc"), 2000),
                              "d": rng.integers(0, 3, 2000).astype(float)})
    current = reference.copy()
    current.loc[:199, "x"] = np.nan
    current.loc[:99, "c"] = "zz"
    current.loc[100:149, "c"] = None
    current.loc[:9, "d"] = 7.0
    report = drift_report(reference, current)
    assert "10.0% in current" in report["x"].note
    assert report["x"].current_missing_share == pytest.approx(0.1)
    assert report["c"].new_categories == ["zz"]
    assert "new categories in current: 'zz'" in report["c"].note
    assert "2.5% in current" in report["c"].note
    assert report["d"].new_categories == ["7"]
    assert "new values" in report["d"].note
    frame_ = report.to_frame()
    assert frame_["note"].str.len().gt(0).sum() == 3


def test_all_null_empty_absent_and_constant_columns():
    rng = np.random.default_rng(4)
    reference = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(list("ab"), 500),
                              "k": np.ones(500), "gone": rng.normal(size=500)})
    current = pd.DataFrame({"x": [np.nan] * 50, "c": [None] * 50, "k": np.full(50, 2.0)})
    report = drift_report(reference, current)
    assert report["x"].statistic is None and not report["x"].drifted
    assert "all missing" in report["x"].note and "all missing" in report["c"].note
    assert "absent from the current data" in report["gone"].note
    assert "constant in reference" in report["k"].note
    assert report["k"].drifted  # a different constant is drift
    assert report.summary["tested"] == 1 and report.share == 1.0
    empty = drift_report(reference, reference.iloc[:0])
    assert empty.summary["tested"] == 0 and empty.share == 0.0 and not empty.dataset_drift
    assert all("current window is empty" in c.note for c in empty.columns)
    streamed_empty = drift_report_stream(reference, iter([]))
    assert streamed_empty.summary["tested"] == 0
    json.dumps(empty.to_dict(), allow_nan=False)
    empty.figure()
    assert "<table" in empty._repr_html_()


def test_non_numeric_and_infinite_values_are_noted():
    rng = np.random.default_rng(6)
    reference = pd.DataFrame({"x": rng.normal(size=1500)})
    current = pd.DataFrame({"x": [*rng.normal(size=1400).tolist(), *["oops"] * 50,
                                  *[np.inf] * 50]}, dtype=object)
    report = drift_report(reference, current)
    assert "50 non-numeric" in report["x"].note
    assert report["x"].tested
    report = drift_report(reference, pd.DataFrame({"x": [*rng.normal(size=900), np.inf]}))
    assert "infinite values ignored: 0 in reference, 1 in current" in report["x"].note


# ---------------------------------------------------------------- streaming
def chunks_of(df: pd.DataFrame, size: int):
    for start in range(0, len(df), size):
        yield df.iloc[start:start + size]


@pytest.mark.parametrize("regime", ["big", "small"])
def test_streaming_agrees_with_exact(regime, request):
    reference, current = request.getfixturevalue(regime)
    exact = drift_report(reference, current)
    for size in (997, 2500):
        streamed = drift_report(reference, chunks_of(current, size))
        assert streamed.mode == "streamed" and exact.mode == "exact"
        assert streamed.chunks == -(-len(current) // size)
        for e, s in zip(exact.columns, streamed.columns, strict=True):
            assert (e.test, e.drifted) == (s.test, s.drifted), e.column
            assert s.psi == pytest.approx(e.psi, abs=1e-12)
            if s.bounds is None:  # exact in streaming: counts, and KS on a small reference
                assert s.statistic == pytest.approx(e.statistic, rel=1e-9, abs=1e-300)
            else:  # Wasserstein: the exact value lies within the reported bounds
                assert s.bounds[0] - 1e-12 <= e.statistic <= s.bounds[1] + 1e-12, e.column
                assert abs(s.statistic - e.statistic) <= 0.01, e.column
            assert s.distribution.get("labels") == e.distribution.get("labels")
            assert s.distribution["current"] == pytest.approx(e.distribution["current"])


def test_streaming_keeps_only_fixed_size_summaries(big):
    reference, current = big
    ref = DriftReference.from_frame(reference)
    acc = DriftAccumulator(ref)
    sizes = None
    released = []
    for i in range(6):
        chunk = current.sample(1000, random_state=i)
        released.append(weakref.ref(chunk))
        acc.update(chunk)
        del chunk
        now = {name: (w.numeric.le.shape if w.numeric else None,
                      len(w.categories.counts) if w.categories else None)
               for name, w in acc.windows.items()}
        assert sizes is None or now == sizes
        sizes = now
        assert all(not w.numeric._parts for w in acc.windows.values() if w.numeric)
    gc.collect()
    assert all(r() is None for r in released)  # no chunk is retained
    assert acc.report().current_rows == 6000


def test_large_reference_ks_streams_with_bounds():
    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"x": rng.normal(size=20_000)})
    current = pd.DataFrame({"x": rng.normal(0.04, 1, 30_000)})
    exact = drift_report(reference, current, tests={"x": "ks"})
    streamed = drift_report(reference, chunks_of(current, 7000), tests={"x": "ks"})
    low, high = streamed["x"].bounds
    assert low - 1e-12 <= exact["x"].statistic <= high + 1e-12
    assert streamed["x"].details["ks_d_bound"] <= 2 / 4000


# ---------------------------------------------------------------- profile as reference
def test_profile_reference_uses_sample_and_stats(big):
    reference, current = big
    profile = profile_dataframe(reference, "train")
    report = drift_report(profile, current)
    assert report.reference_source == "profile" and report.reference_rows == 5000
    assert report["mean"].test == "ks" and report["freq"].test == "chisquare"
    assert report["mean"].reference_values == 1000
    assert set(report.drifted_columns) == SHIFTED
    record = {"name": "train", "rows": profile.rows, "profile": profile.profile}
    again = drift_report(record, current)
    assert [c.statistic for c in again.columns] == [c.statistic for c in report.columns]
    inner = drift_report(profile.profile, current)
    assert [c.drifted for c in inner.columns] == [c.drifted for c in report.columns]
    # a category in the full data's top values is not "new", even if the sample lacks it
    profile.profile["columns"]["freq"]["top"].append({"value": "zz", "count": 1})
    cur = current.copy()
    cur.loc[:5, "freq"] = "zz"
    assert drift_report(profile, cur)["freq"].new_categories == []
    with pytest.raises(InvalidInput):
        drift_report({"columns": {}}, current)


def test_prepared_reference_is_reusable(big):
    reference, current = big
    prepared = DriftReference.from_frame(reference)
    first = drift_report(prepared, current)
    second = drift_report(prepared, current.iloc[:3000])
    assert first.drifted_columns and second.current_rows == 3000
    assert [c.column for c in drift_report(prepared, current, columns=["mean"]).columns] == \
        ["mean"]


# ---------------------------------------------------------------- report views
def test_summary_frame_and_dict(big):
    report = drift_report(*big)
    summary = report.summary
    assert set(summary) >= {"dataset_drift", "share", "drifted", "columns", "thresholds"}
    assert summary["thresholds"]["drift_share"] == 0.5
    assert summary["thresholds"]["wasserstein"] == 0.1
    frame_ = report.to_frame()
    assert list(frame_.columns[:8]) == ["column", "kind", "test", "statistic", "threshold",
                                        "drifted", "psi", "psi_significant"]
    assert list(frame_.columns)[-1] == "note"
    assert frame_.set_index("column")["drifted"].sum() == 5
    body = report.to_dict()
    text = json.dumps(body, allow_nan=False)
    assert json.loads(text)["summary"]["drifted"] == 5
    assert body["columns"][0]["distribution"]["type"] == "histogram"
    assert "DriftReport" in repr(report)


def test_figure_has_score_bars_and_worst_distributions(big):
    report = drift_report(*big)
    fig = report.figure()
    bars = [t for t in fig.data if t.type == "bar" and t.orientation == "h"]
    assert len(bars) == 1 and list(bars[0].y)[:5] == report.drifted_columns
    assert len(bars[0].y) == 11
    dists = [t for t in fig.data if t.name in ("reference", "current")]
    assert len(dists) == 8  # 4 worst columns x (reference, current)
    assert sum(t.showlegend is not False for t in dists) == 2
    titles = [a.text for a in fig.layout.annotations]
    assert any(report.drifted_columns[0] in t for t in titles)
    assert "Data drift" in fig.layout.title.text
    assert len([t for t in report.figure(worst=1).data if t.name == "current"]) == 1


def test_html_outputs(big, tmp_path):
    report = drift_report(*big)
    path = report.save_html(tmp_path / "drift.html")
    text = path.read_text()
    assert "plotly-graph-div" in text and "<table" in text
    assert text.startswith("<!DOCTYPE html>")
    assert 'src="https://cdn' not in text and len(text) > 1_000_000  # plotly.js inline
    notebook = report._repr_html_()
    assert "plotly-graph-div" in notebook and "No dataset drift" in notebook
    report.plotlyjs = False
    assert len(report._repr_html_()) < 1_000_000
