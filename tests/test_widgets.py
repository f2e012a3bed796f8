"""Notebook outputs: the ``%%mlops_train`` card, the ``%mlops_deploy`` live status,
``mlops.compare`` and ``mlops.runs_widget`` (as widgets and as HTML)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import mlops_jlab as mlops
from mlops_jlab.widgets.compare import CompareView
from mlops_jlab.widgets.deploy_status import DeployStatus, ready_replicas
from mlops_jlab.widgets.display import WIDGET_VIEW, View
from mlops_jlab.widgets.run_card import RunCard, run_card_html, suggest_model_name
from mlops_jlab.widgets.runs_table import RunsTable

SETUP = """
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
X, y = load_iris(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
"""
TRAIN = """%%mlops_train --experiment widgets --name {name} --eval X_test,y_test {extra}
from sklearn.linear_model import LogisticRegression
clf = LogisticRegression(C={c}, max_iter=500).fit(X_train, y_train)
"""
XSS = "<script>alert(1)</script>"


@pytest.fixture
def widgets_on(monkeypatch):
    """Views render as widgets even in this kernel-less shell."""
    monkeypatch.setenv("MLOPS_JLAB_WIDGETS", "1")


@pytest.fixture
def shell(mlops_home, widgets_on):
    sh = InteractiveShell.instance()
    sh.run_cell("%load_ext mlops_jlab", store_history=False)
    sh.run_cell(SETUP, store_history=False)
    yield sh
    sh.user_ns.pop("clf", None)


@pytest.fixture
def shown(monkeypatch):
    """The objects views display (``View.show``), in order."""
    objects: list[object] = []

    def display(obj, display_id=None, **kwargs):
        objects.append(obj)

    monkeypatch.setattr("IPython.display.display", display)
    return objects


def _train(sh, name, c=1.0, extra=""):
    result = sh.run_cell(TRAIN.format(name=name, c=c, extra=extra), store_history=False)
    assert result.success, result.error_in_exec
    runs = mlops.search_runs("widgets", filter=f"attributes.name = '{name}'")
    return mlops.get_run(runs["run_id"][0])


def _only(objects, kind):
    found = [o for o in objects if isinstance(o, kind)]
    assert len(found) == 1, objects
    return found[0]


# ------------------------------------------------------------------ run card
def test_train_cell_shows_a_run_card_widget(shell, shown):
    run = _train(shell, "card", extra="--tag team=risk")
    card = _only(shown, RunCard)
    assert card.run.id == run.id and card.model == "LogisticRegression"
    widget = card.widget
    header, row, message = widget.children
    assert "card" in header.value and "finished" in header.value and "widgets" in header.value
    for metric in ("accuracy", "f1", "training_duration_s"):
        assert metric in header.value
    assert "C=1.0" in header.value  # params
    assert card.registrable and row.layout.display != "none"
    assert card.name_box.value == "widgets"  # the experiment's name
    assert card.register_button.description == "Register" and message.value == ""
    assert "accuracy=" in card.text()


@pytest.mark.both_backends
def test_register_button_registers_the_model_and_updates_the_card(shell, shown):
    run = _train(shell, "to-register")
    card = _only(shown, RunCard)
    card.widget  # noqa: B018 - build it
    card.name_box.value = "iris-widget"
    card.register_button.click()
    version = mlops.get_model_version("iris-widget", "latest")
    assert version.version == 1 and version.run_id == run.id
    assert "registered as <b>iris-widget v1</b>" in card.message.value
    assert "registered as <b>iris-widget v1</b>" in card.card.value
    assert card.register_row.layout.display == "none"
    assert "registered as <b>iris-widget v1</b>" in card.html()  # the saved rendering too
    assert card.registered.version == 1 and card.error is None
    card.register("iris-widget")  # one card registers once
    assert "Conflict" in card.message.value
    assert len(mlops.list_model_versions("iris-widget")) == 1


def test_a_bad_model_name_shows_the_error_and_registers_nothing(shell, shown):
    _train(shell, "bad-name")
    card = _only(shown, RunCard)
    card.widget  # noqa: B018
    card.name_box.value = "../escape"
    card.register_button.click()
    assert "InvalidInput" in card.message.value and "not allowed" in card.message.value
    assert "&#x27;../escape&#x27;" in card.message.value  # escaped
    assert mlops.list_models() == []
    assert not card.register_button.disabled and card.register_row.layout.display != "none"
    card.name_box.value = "iris-fixed"
    card.register_button.click()
    assert mlops.get_model_version("iris-fixed", 1).version == 1


def test_no_register_button_once_registered_or_without_a_stored_model(shell, shown):
    _train(shell, "pre-registered", extra="--register iris-pre")
    card = _only(shown, RunCard)
    assert card.registered.name == "iris-pre" and not card.registrable
    assert card.widget.children[1].layout.display == "none"
    assert "registered as <b>iris-pre v1</b>" in card.html()
    shown.clear()
    _train(shell, "no-model", extra="--no-model")
    card = _only(shown, RunCard)
    assert not card.registrable and card.widget.children[1].layout.display == "none"


def test_the_displayed_bundle_has_the_widget_view_and_html(shell):
    with capture_output() as captured:
        _train(shell, "bundle")
    (output,) = captured.outputs
    assert set(output.data) >= {WIDGET_VIEW, "text/html", "text/plain"}
    assert output.data[WIDGET_VIEW]["model_id"]
    assert "mlops-run-card" in output.data["text/html"]
    assert "bundle" in output.data["text/html"] and "accuracy" in output.data["text/html"]


def test_widgets_off_gives_plain_html(shell, monkeypatch):
    monkeypatch.setenv("MLOPS_JLAB_WIDGETS", "0")
    with capture_output() as captured:
        _train(shell, "plain")
    (output,) = captured.outputs
    assert WIDGET_VIEW not in output.data and "mlops-run-card" in output.data["text/html"]


def test_without_a_kernel_views_are_html_unless_forced(mlops_home, monkeypatch):
    monkeypatch.delenv("MLOPS_JLAB_WIDGETS", raising=False)
    run = mlops.start_run(name="auto")
    run.end()
    bundle = RunCard(run.info)._repr_mimebundle_()
    assert WIDGET_VIEW not in bundle and "mlops-run-card" in bundle["text/html"]


def test_html_fallback_escapes_everything(shell, shown):
    result = shell.run_cell(f'%%mlops_train --name {XSS}\nx = "<b>{XSS}</b>"\n',
                            store_history=False)
    assert result.success, result.error_in_exec
    card = _only(shown, RunCard)
    assert card.run.name == XSS
    for html in (card.html(), card.widget.children[0].value,
                 run_card_html(card.run), card._repr_mimebundle_()["text/html"]):
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;" in card.html()  # the param x


def test_suggested_model_names_are_valid_registry_names(mlops_home):
    from mlops_jlab.registry.names import model_name

    run = mlops.start_run(name="x", experiment="churn / v2 (2024)")
    run.end()
    assert model_name(suggest_model_name(run.info)) == "churn-v2-2024"
    other = mlops.start_run(name="y")
    other.end()
    assert suggest_model_name(other.info, "RandomForestClassifier") == \
        "RandomForestClassifier"


# ------------------------------------------------------------------ compare
@pytest.fixture
def three_runs(mlops_home):
    """Three runs: lr numeric, model categorical, fixed constant; loss histories."""
    mlops.set_experiment("cmp")
    ids = []
    for i, (lr, model) in enumerate([(0.1, "rf"), (0.01, "svc"), (0.1, "svc")]):
        with mlops.start_run(name=f"run{i}") as run:
            run.log_params({"lr": lr, "model": model, "fixed": 1})
            for step in range(5 + i):
                run.log_metric("loss", 1 / (step + 1 + i), step=step)
            run.log_metric("accuracy", 0.8 + 0.05 * i)
            ids.append(run.id)
    return ids


@pytest.mark.both_backends
def test_compare_diff_table(three_runs):
    view = mlops.compare(three_runs)
    table = view.diff_table()
    assert list(table.columns) == ["run0", "run1", "run2"]
    assert list(table.index) == ["params.fixed", "params.lr", "params.model",
                                 "metrics.accuracy", "metrics.loss"]
    assert list(table.loc["params.model"]) == ["rf", "svc", "svc"]
    assert list(table.loc["metrics.accuracy"]) == pytest.approx([0.8, 0.85, 0.9])
    differing = view.diff_table(only_differences=True)
    assert "params.fixed" not in differing.index and len(differing) == 4
    html = view._table_html()
    assert "4 of 5 params and metrics differ" in html
    assert html.count("values differ") == 4


def test_compare_accepts_ids_run_objects_and_search_frames(three_runs):
    frame = mlops.search_runs("cmp", order_by="attributes.name ASC")
    handles = [mlops.get_run(i) for i in three_runs]
    records = [h.info for h in handles]
    expected = ["run0", "run1", "run2"]
    for runs in (three_runs, handles, records, frame, [*three_runs, three_runs[0]]):
        assert list(mlops.compare(runs).diff_table().columns) == expected
    assert list(mlops.compare(three_runs[1]).diff_table().columns) == ["run1"]


@pytest.mark.both_backends
def test_compare_figures(three_runs):
    import plotly.graph_objects as go

    view = mlops.compare(three_runs)
    assert view.metric == "accuracy" and view.history_metric == "loss"
    figures = view.figures()
    assert set(figures) == {"parallel_coordinates", "metric_history"}
    assert all(isinstance(f, go.Figure) for f in figures.values())

    (parcoords,) = figures["parallel_coordinates"].data
    assert parcoords.type == "parcoords"
    dims = {d.label: d for d in parcoords.dimensions}
    assert list(dims) == ["lr", "model", "<b>accuracy</b>"]  # the constant param is left out
    assert list(dims["lr"].values) == [0.1, 0.01, 0.1] and dims["lr"].ticktext is None
    assert list(dims["model"].ticktext) == ["rf", "svc"]
    assert list(dims["model"].values) == [0, 1, 1]
    assert list(dims["<b>accuracy</b>"].values) == pytest.approx([0.8, 0.85, 0.9])
    assert "Params vs accuracy" in figures["parallel_coordinates"].layout.title.text

    history = figures["metric_history"]
    assert [t.name for t in history.data] == ["run0", "run1", "run2"]
    assert [len(t.x) for t in history.data] == [5, 6, 7]
    assert history.layout.xaxis.title.text == "step"
    assert history.layout.yaxis.title.text == "loss"
    assert all("step %{x}" in t.hovertemplate for t in history.data)
    # a run keeps its color from one figure to the other
    scale = parcoords.line.colorscale
    for i, trace in enumerate(history.data):
        assert trace.line.color == scale[2 * i][1]

    other = view.history_figure("accuracy")
    assert [t.mode for t in other.data] == ["markers"] * 3
    frame = view.history("loss")
    assert list(frame.columns) == ["run_id", "run", "step", "value", "timestamp"]
    assert len(frame) == 18


def test_compare_widget_controls(three_runs, widgets_on):
    view = mlops.compare(three_runs)
    widget = view.widget
    assert view.only_box in widget.children and view.table in widget.children
    assert "fixed" in view.table.value
    view.only_box.value = True
    assert "fixed" not in view.table.value and "lr" in view.table.value
    (before,) = view.parallel_out.outputs
    assert "application/vnd.plotly.v1+json" in before["data"]
    view.metric_box.value = "loss"
    (after,) = view.parallel_out.outputs
    labels = [d["label"] for d in after["data"]["application/vnd.plotly.v1+json"]["data"][0]
              ["dimensions"]]
    assert labels[-1] == "<b>loss</b>"
    view.history_box.value = "accuracy"
    (history,) = view.history_out.outputs
    assert history["data"]["text/plain"] == "<plotly figure: accuracy by step>"
    bundle = view._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "mlops-compare-table" in bundle["text/html"]


def test_compare_html_escapes_run_names(mlops_home):
    with mlops.start_run(name=XSS) as run:
        run.log_param(XSS, XSS)
        run.log_metric("loss", 1.0)
    html = mlops.compare([run.id]).html()
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "plotly" in html  # the figures are embedded


def test_compare_bad_input(three_runs):
    import pandas as pd

    with pytest.raises(mlops.InvalidInput, match="at least one run"):
        mlops.compare([])
    with pytest.raises(mlops.InvalidInput, match="at least one run"):
        mlops.compare(mlops.search_runs("cmp", filter="metrics.accuracy > 5"))
    with pytest.raises(mlops.NotFound):
        mlops.compare([three_runs[0], "0" * 32])
    with pytest.raises(mlops.InvalidInput, match="run_id column"):
        mlops.compare(pd.DataFrame({"x": [1]}))
    with pytest.raises(mlops.InvalidInput, match="not a run"):
        mlops.compare([three_runs[0], 42])
    with pytest.raises(mlops.InvalidInput, match="cannot read runs"):
        mlops.compare(42)
    with pytest.raises(mlops.InvalidInput, match="no run has metric 'nope'"):
        mlops.compare(three_runs, metric="nope")


def test_a_run_without_the_metric_sits_below_the_axis(three_runs):
    with mlops.start_run(name="no-accuracy") as run:
        run.log_params({"lr": 0.5, "model": "rf"})
    figure = mlops.compare([*three_runs, run.id]).parallel_figure("accuracy")
    metric_axis = figure.data[0].dimensions[-1]
    assert metric_axis.values[-1] < min(metric_axis.values[:3])
    assert metric_axis.range[0] <= metric_axis.values[-1]
    assert "1 run(s) without accuracy" in figure.layout.title.text


def test_compare_of_runs_without_params_or_metrics(mlops_home):
    with mlops.start_run(name="bare") as run:
        pass
    view = mlops.compare(run.id)
    assert view.metric is None and view.diff_table().empty
    figures = view.figures()
    assert not figures["parallel_coordinates"].data and not figures["metric_history"].data
    assert "nothing recorded" in view.html()


# ------------------------------------------------------------------ runs table
@pytest.mark.both_backends
def test_runs_widget_filter_sort_pick_and_compare(three_runs, widgets_on):
    table = mlops.runs_widget("cmp", order_by="attributes.name ASC")
    assert isinstance(table, RunsTable) and list(table.frame["name"]) == ["run0", "run1",
                                                                          "run2"]
    table.widget  # noqa: B018
    assert "run0" in table.table.value and "accuracy" in table.table.value
    table.filter_box.value = "metrics.accuracy >"  # malformed: shown, runs kept
    assert "FilterError" in table.message.value and len(table.frame) == 3
    assert table.filter_box.value == "metrics.accuracy >"
    table.filter_box.value = "metrics.accuracy > 0.82"
    assert table.message.value == "" and list(table.frame["name"]) == ["run1", "run2"]
    assert "run0" not in table.table.value
    table.sort_box.value = "metrics.accuracy DESC"
    assert list(table.frame["name"]) == ["run2", "run1"]
    assert table.compare_button.disabled
    table.picker.value = tuple(v for _, v in table.picker.options)
    assert not table.compare_button.disabled
    table.compare_button.click()
    assert isinstance(table.compare_view, CompareView)
    assert table.compare_area.children == (table.compare_view.widget,)
    assert list(table.compare_view.diff_table().columns) == ["run2", "run1"]


def test_runs_widget_html_and_bad_filter(three_runs, monkeypatch):
    monkeypatch.setenv("MLOPS_JLAB_WIDGETS", "0")
    table = mlops.runs_widget("cmp", filter="params.model = 'svc'")
    bundle = table._repr_mimebundle_()
    assert WIDGET_VIEW not in bundle
    html = bundle["text/html"]
    assert "2 run(s)" in html and "run1" in html and "run0" not in html
    assert "params.model = &#x27;svc&#x27;" in html
    with pytest.raises(mlops.FilterError):
        mlops.runs_widget("cmp", filter="metrics.accuracy >")


# ------------------------------------------------------------------ deploy status
class _Event:
    def __init__(self, kind, replica=None, revision=1, message=""):
        self.kind, self.message = kind, message or kind
        self.data = {} if replica is None else {"replica": replica, "revision": revision}


def test_ready_replicas_follows_the_latest_event_of_each_replica():
    events = [_Event("crashed", 1), _Event("ready", 1), _Event("ready", 0),
              _Event("ready", 2, revision=0), _Event("started", 1), _Event("started", 0)]
    assert ready_replicas(1, events) == 1  # replica 1 crashed after being ready
    assert ready_replicas(0, events) == 1
    assert ready_replicas(2, events) == 0


def test_deploy_magic_shows_live_status_then_the_card(shell, shown):
    from mlops_jlab.client import serving as api_serving

    _train(shell, "served", extra="--register iris-live")
    magic = shell.find_line_magic("mlops_deploy")
    try:
        with pytest.raises(UsageError, match="not ready after 0 s"):
            magic("iris-live@latest --name iris-live --timeout 0")
        failed = _only(shown, DeployStatus)
        assert failed.phase == "failed" and "failed" in failed.widget.value
        assert "not ready after 0 s" in failed.html()
        shown.clear()

        calls = []
        original = DeployStatus.update

        def spy(self, info, events):
            calls.append(len(events))
            original(self, info, events)

        DeployStatus.update = spy  # type: ignore[method-assign]
        try:
            handle = magic("iris-live@latest --name iris-live --timeout 60")
        finally:
            DeployStatus.update = original  # type: ignore[method-assign]
        status = _only(shown, DeployStatus)
        assert calls, "the waiting loop feeds the view"
        assert status.phase == "ready" and status.info.revision == 2
        for html in (status.widget.value, status.html()):
            assert "mlops-deploy-card" in html and handle.url in html
            assert "curl -s" in html and "ready" in html
        assert status._repr_mimebundle_()[WIDGET_VIEW]
        magic("--name iris-live --stop")
    finally:
        if api_serving._embedded is not None:
            api_serving._embedded.stop()
            api_serving._embedded = None


# ------------------------------------------------------------------ saved notebooks
def test_papermill_output_keeps_readable_html(mlops_home, tmp_path, monkeypatch):
    import nbformat
    import papermill as pm

    monkeypatch.delenv("MLOPS_JLAB_WIDGETS", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext mlops_jlab\nimport mlops_jlab as mlops\n"
                                  + SETUP),
        nbformat.v4.new_code_cell(TRAIN.format(name="pm-a", c=1.0, extra="")),
        nbformat.v4.new_code_cell(TRAIN.format(name="pm-b", c=0.1, extra="")),
        nbformat.v4.new_code_cell('mlops.compare(mlops.search_runs("widgets"))'),
    ]
    source, out = tmp_path / "widgets.ipynb", tmp_path / "widgets-out.ipynb"
    nbformat.write(nb, source)
    pm.execute_notebook(str(source), str(out), kernel_name="python3", progress_bar=False,
                        cwd=str(tmp_path))
    executed = nbformat.read(out, as_version=4)
    for cell, name in ((executed.cells[1], "pm-a"), (executed.cells[2], "pm-b")):
        (output,) = [o for o in cell.outputs if o.output_type == "display_data"]
        assert WIDGET_VIEW in output.data  # a kernel: widgets by default
        assert "mlops-run-card" in output.data["text/html"] and name in output.data["text/html"]
    (result,) = [o for o in executed.cells[3].outputs if o.output_type == "execute_result"]
    html = result.data["text/html"]
    assert "mlops-compare-table" in html and "pm-a" in html and "pm-b" in html
    assert "Params vs accuracy" in html


def test_view_base_class_contract():
    class Plain(View):
        def html(self):
            return "<p>x</p>"

    view = Plain()
    assert view.text() == "<Plain>" and not view.shown
    view.refresh()  # not shown: nothing to update
    with pytest.raises(NotImplementedError):
        view.build_widget()
