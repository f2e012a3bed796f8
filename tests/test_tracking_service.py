import math
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_jlab.errors import (
    Conflict,
    FilterError,
    InvalidInput,
    NotFound,
    PageTokenError,
    RuleViolation,
)
from mlops_jlab.tracking.datasets import profile_dataframe


def _run(tracking, exp="e", **params):
    return tracking.create_run("alice", exp, params=params)


def test_experiments(tracking):
    exp = tracking.create_experiment("fraud", "alice", {"team": "risk"})
    assert tracking.get_experiment("fraud").id == exp.id
    assert tracking.get_experiment(exp.id).name == "fraud"
    tracking.access.grant("alice", "bob", "contributor")
    with pytest.raises(Conflict):
        tracking.create_experiment("fraud", "bob")
    with pytest.raises(NotFound):
        tracking.get_experiment("nope")
    with pytest.raises(InvalidInput):
        tracking.create_experiment("  ", "bob")
    _run(tracking, "fraud")
    listed = {e.name: e for e in tracking.list_experiments()}
    assert listed["fraud"].run_count == 1 and listed["fraud"].last_run_at


def test_run_lifecycle_params_tags_metrics(tracking):
    run = tracking.create_run("alice", "e", name="first", params={"lr": 0.1, "model": "rf"},
                              tags={"team": "a"}, source={"kind": "script"})
    assert run.status == "running" and run.user == "alice"
    tracking.log_params(run.id, {"lr": 0.1, "depth": 3}, "alice")  # same value again is fine
    with pytest.raises(Conflict, match="immutable"):
        tracking.log_params(run.id, {"lr": 0.2}, "alice")
    tracking.set_tags(run.id, {"team": "b"}, "alice")
    tracking.log_metrics([(run.id, "loss", 1.0, 0, 10), (run.id, "loss", 0.5, 1, 11),
                          (run.id, "loss", 0.7, 0, 12), (run.id, "acc", float("nan"), 0, 10)],
                         "alice")
    tracking.end_run(run.id, "alice", "finished",
                     points=[(run.id, "loss", 0.4, 0, 13)])  # written with the end
    ended = tracking.get_run(run.id)
    assert ended.status == "finished" and ended.end_time >= ended.start_time
    detail = tracking.get_run(run.id)
    assert detail.params == {"lr": "0.1", "model": "rf", "depth": "3"}
    assert detail.tags == {"team": "b"}
    assert detail.metrics["loss"] == 0.5  # highest step wins, not the last written
    assert detail.metrics["acc"] is None  # NaN is stored as missing
    assert detail.metric_keys == ["acc", "loss"]
    history = tracking.metric_history(run.id, "loss")
    assert [(p.step, p.value) for p in history] == [(0, 1.0), (0, 0.7), (0, 0.4), (1, 0.5)]
    with pytest.raises(RuleViolation):
        tracking.end_run(run.id, "alice", "failed")
    with pytest.raises(InvalidInput):
        tracking.end_run(run.id, "alice", "done")


def test_unknown_ids_are_not_found(tracking):
    with pytest.raises(NotFound):
        tracking.get_run("0" * 32)
    with pytest.raises(NotFound):
        tracking.log_metrics([("f" * 32, "x", 1.0, 0, 0)], "alice")
    run = _run(tracking)
    with pytest.raises(NotFound, match="no metric"):
        tracking.metric_history(run.id, "missing")


def test_nested_runs_record_their_parent(tracking):
    parent = _run(tracking)
    child = tracking.create_run("alice", "e", parent_run_id=parent.id)
    assert tracking.get_run(child.id).parent_run_id == parent.id
    page = tracking.search_runs("e", f"attributes.parent_run_id = '{parent.id}'")
    assert [r.id for r in page.runs] == [child.id]


@pytest.fixture
def populated(tracking):
    rng = random.Random(7)
    runs = []
    tracking.access.whoami("alice")  # the first user: admin
    tracking.access.grant("alice", "bob", "contributor")
    for i in range(60):
        run = tracking.create_run(
            "alice" if i % 2 else "bob", "search", name=f"r{i:02d}",
            params={"model": "rf" if i % 3 == 0 else "lr", "depth": i % 5},
            tags={"team": "x" if i < 30 else "y"}, start_time=1_000_000 + i)
        acc = round(rng.random(), 3) if i % 10 else None
        points = [(run.id, "loss", 1.0 / (i + 1), 0, 1)]
        if acc is not None:
            points.append((run.id, "acc", acc, 0, 1))
        tracking.log_metrics(points, "alice")
        if i % 4 == 0:
            tracking.end_run(run.id, "alice", "failed" if i % 8 == 0 else "finished",
                             end_time=1_000_000 + i + 100)
        runs.append((run, acc, i))
    return runs


def _ids(page):
    return [r.name for r in page.runs]


def test_search_filters(tracking, populated):
    by_name = {run.name: (acc, i) for run, acc, i in populated}

    def names(flt, **kw):
        return set(_ids(tracking.search_runs("search", flt, limit=1000, **kw)))

    expected = {n for n, (acc, i) in by_name.items()
                if acc is not None and acc > 0.5 and i % 3 == 0}
    assert names("metrics.acc > 0.5 and params.model = 'rf'") == expected
    assert names("params.depth >= 3") == {n for n, (_, i) in by_name.items() if i % 5 >= 3}
    assert names("params.model > 0") == set(), "text params never compare as numbers"
    assert names("params.depth = 3") == {n for n, (_, i) in by_name.items() if i % 5 == 3}
    assert names("metrics.acc is null") == {n for n, (acc, _) in by_name.items() if acc is None}
    assert names("attributes.status = 'failed'") == {
        n for n, (_, i) in by_name.items() if i % 8 == 0}
    assert names("attributes.user = 'bob' and tags.team = 'y'") == {
        n for n, (_, i) in by_name.items() if i % 2 == 0 and i >= 30}
    assert names("attributes.name like 'r0%'") == {f"r0{i}" for i in range(10)}
    assert names("attributes.name ilike 'R0%'") == {f"r0{i}" for i in range(10)}
    assert names("attributes.start_time < 1000005") == {f"r0{i}" for i in range(5)}
    assert names("params.model in ('rf') or (tags.team != 'x' and metrics.loss < 0.02)") == {
        n for n, (_, i) in by_name.items() if i % 3 == 0 or (i >= 30 and 1 / (i + 1) < 0.02)}
    assert names("not params.model = 'rf'") == {n for n, (_, i) in by_name.items() if i % 3}
    assert names("attributes.duration > 0") == {n for n, (_, i) in by_name.items() if i % 4 == 0}


def test_search_errors(tracking, populated):
    with pytest.raises(FilterError) as info:
        tracking.search_runs("search", "metrics.acc > 'high'")
    assert info.value.position == 12  # the comparison
    with pytest.raises(FilterError, match="unknown status"):
        tracking.search_runs("search", "attributes.status = 'done'")
    with pytest.raises(NotFound):
        tracking.search_runs("no-such-experiment")
    with pytest.raises(InvalidInput):
        tracking.search_runs("search", limit=0)


def test_order_by_metric_puts_missing_values_last(tracking, populated):
    page = tracking.search_runs("search", order_by=["metrics.acc DESC"], limit=1000)
    values = [r.metrics.get("acc") for r in page.runs]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=True)
    assert values[len(present):] == [None] * (len(values) - len(present))
    asc = tracking.search_runs("search", order_by="metrics.acc", limit=1000)
    asc_values = [r.metrics.get("acc") for r in asc.runs]
    assert [v for v in asc_values if v is not None] == sorted(present)
    assert asc_values[-1] is None


def test_default_order_is_newest_first(tracking, populated):
    page = tracking.search_runs("search", limit=5)
    assert _ids(page) == ["r59", "r58", "r57", "r56", "r55"]


@pytest.mark.parametrize("order", [None, ["metrics.acc DESC"], ["params.model", "metrics.loss"],
                                   ["tags.team DESC", "attributes.end_time"],
                                   ["attributes.duration DESC"]])
def test_cursor_paging_visits_every_run_once(tracking, populated, order):
    full = _ids(tracking.search_runs("search", order_by=order, limit=1000))
    seen, token = [], None
    while True:
        page = tracking.search_runs("search", order_by=order, limit=7, page_token=token)
        seen += _ids(page)
        token = page.next_page_token
        if not token:
            break
    assert seen == full and len(set(seen)) == 60


@pytest.mark.parametrize("flt,order", [
    ("metrics.acc > 0.3", ["metrics.acc DESC"]),
    ("metrics.acc <= 0.8 and params.model = 'lr'", ["metrics.acc", "attributes.name"]),
    ("metrics.acc in (0.5, 0.6) or metrics.acc > 0.2", ["metrics.acc DESC"]),
])
def test_filtered_and_ordered_by_the_same_metric(tracking, populated, flt, order):
    expected = tracking.search_runs("search", flt, limit=1000).runs
    full = tracking.search_runs("search", flt, order, limit=1000).runs
    assert {r.id for r in full} == {r.id for r in expected}
    values = [r.metrics["acc"] for r in full]
    descending = order[0].endswith("DESC")
    assert values == sorted(values, reverse=descending)
    seen, token = [], None
    while True:
        page = tracking.search_runs("search", flt, order, limit=4, page_token=token)
        seen += [r.id for r in page.runs]
        token = page.next_page_token
        if not token:
            break
    assert seen == [r.id for r in full]


def test_page_tokens_are_tied_to_their_query(tracking, populated):
    page = tracking.search_runs("search", limit=5)
    with pytest.raises(PageTokenError):
        tracking.search_runs("search", "params.model = 'rf'", limit=5,
                             page_token=page.next_page_token)
    with pytest.raises(PageTokenError):
        tracking.search_runs("search", page_token="garbage!")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("ab'\"\\%_;-) ("), min_size=0, max_size=12))
def test_fuzzed_quotes_and_backslashes_match_exactly(tracking, value):
    run = tracking.create_run("alice", "fuzz", params={"p": value})
    quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    hits = [r.id for r in tracking.search_runs("fuzz", f"params.p = {quoted}",
                                               limit=1000).runs]
    assert run.id in hits
    assert all(tracking.get_run(h).params["p"] == value for h in hits)


def test_artifacts_file_and_folder(tracking, tmp_path: Path):
    run = _run(tracking)
    f = tmp_path / "notes.txt"
    f.write_text("hi")
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.bin").write_bytes(b"a")
    (folder / "sub" / "b.bin").write_bytes(b"b")
    tracking.log_artifact(run.id, f, "alice")
    tracking.log_artifact(run.id, folder, "alice", artifact_path="model")
    paths = [a["path"] for a in tracking.list_artifacts(run.id)]
    assert paths == ["model/a.bin", "model/sub/b.bin", "notes.txt"]
    blob = tracking.artifact_blob(run.id, "model/sub/b.bin")
    assert tracking.artifacts.read_bytes(blob["sha256"]) == b"b"
    with pytest.raises(InvalidInput):
        tracking.log_artifact(run.id, tmp_path / "missing", "alice")
    with pytest.raises(InvalidInput):
        tracking.log_artifact(run.id, f, "alice", artifact_path="../escape")


def test_datasets_are_versioned_by_content(tracking):
    import pandas as pd

    df = pd.DataFrame({"x": [1.0, 2.0, None, 4.0], "c": ["a", "b", "a", None]})
    run = _run(tracking)
    first = tracking.log_dataset(run.id, profile_dataframe(df, "data"), "alice", "train")
    same = tracking.log_dataset(_run(tracking).id, profile_dataframe(df.copy(), "data"),
                                "alice", "train")
    changed = tracking.log_dataset(run.id, profile_dataframe(df.assign(x=df.x * 2), "data"),
                                   "alice", "test")
    assert first["version"] == same["version"] == 1 and changed["version"] == 2
    assert first["rows"] == 4
    assert first["schema"] == [{"name": "x", "dtype": "float64"},
                               {"name": "c", "dtype": str(df.dtypes["c"])}]
    stored = tracking.get_dataset("data", 1)
    cols = stored["profile"]["columns"]
    assert cols["x"]["missing"] == 1 and math.isclose(cols["x"]["mean"], 7 / 3)
    assert cols["c"]["top"][0] == {"value": "a", "count": 2}
    assert len(stored["profile"]["sample"]["data"]) == 4
    assert {d["role"] for d in tracking.get_run(run.id).datasets} == {"train", "test"}
