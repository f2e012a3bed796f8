"""``GET /mlops/api/runs/{id}/notebook``: the notebook a run stored when it started,
rendered read-only (nothing runs, user HTML escaped, nothing loads from outside) or
returned as stored, through a real Jupyter server with team identities."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops
from mlops_jlab.server.notebooks import clean_html, render_notebook_html
from mlops_jlab.tracking.snapshot import stored_notebook

pytestmark = pytest.mark.team_identities


def _notebook(marker: Path) -> bytes:
    """A notebook whose cells and outputs carry HTML that must not run."""
    nb = new_notebook(cells=[
        new_markdown_cell("# Churn model\n\nNotes <script>alert('md')</script> "
                          "<img src=x onerror=alert(1)> <b>kept</b>"),
        new_code_cell(f"x = '<script>alert(1)</script>'\n"
                      f"open({str(marker)!r}, 'w').write('ran')\n"
                      "print('snapshot-marker-1')", execution_count=1, outputs=[
                          new_output("stream", name="stdout", text="<script>out</script>\n"),
                          new_output("display_data", data={
                              "text/html": "<div><style>p{}</style><table><thead><tr>"
                                           "<th>a</th></tr></thead><tbody><tr><td "
                                           "onclick='x()'>1</td></tr></tbody></table>"
                                           "<script>evil()</script></div>",
                              "text/plain": "frame"}),
                          new_output("display_data", data={
                              "application/javascript": "window.evil2()"}),
                          new_output("display_data", data={"image/png": "iVBORw0KGgo="})]),
    ])
    return nbformat.writes(nb).encode()


def _run_with_notebook(monkeypatch, folder: Path, name: str = "train.ipynb",
                       experiment: str = "snap") -> tuple[str, Path, bytes]:
    """A run started "from" a notebook file in ``folder`` (as a kernel would be)."""
    path = folder / name
    content = _notebook(folder / "executed.txt")
    path.write_bytes(content)
    monkeypatch.setenv("MLOPS_JLAB_NOTEBOOK", str(path))
    mlops.set_experiment(experiment)
    with mlops.start_run(name="with-notebook") as run:
        run.log_metric("acc", 0.9)
    monkeypatch.delenv("MLOPS_JLAB_NOTEBOOK")
    return run.id, path, content


async def _error(jp_fetch, *parts, **kw) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", *parts, **kw)
    response = info.value.response
    assert response.headers["Content-Type"].startswith("application/json")
    return info.value.code, json.loads(response.body)


async def test_the_notebook_as_the_run_saw_it(jp_fetch, jp_root_dir, monkeypatch):
    run_id, path, stored = _run_with_notebook(monkeypatch, jp_root_dir)
    path.write_text("{}")  # the file moved on after the run: the snapshot did not

    response = await jp_fetch("mlops", "api", "runs", run_id, "notebook")
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.body)
    assert body["run_id"] == run_id and body["artifact"] == "source/train.ipynb"
    assert body["name"] == "train.ipynb" and body["notebook_path"] == "train.ipynb"
    assert body["sha256"] == hashlib.sha256(stored).hexdigest()
    assert body["size"] == len(stored) and isinstance(body["stored_at"], int)
    assert body["source_hash"] == body["sha256"] and body["matches_source"] is True
    html = body["html"]
    assert "snapshot-marker-1" in html and "Churn model" in html and "<b>kept</b>" in html
    # user content is escaped: the code cell, the markdown, stream and HTML outputs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert('md')&lt;/script&gt;" in html
    assert "&lt;script&gt;out&lt;/script&gt;" in html
    assert "&lt;script&gt;evil()&lt;/script&gt;" in html
    assert not re.search(r"<script\b", html, re.IGNORECASE)  # no script element at all
    assert "onerror" not in html and "onclick" not in html and "window.evil2" not in html
    assert "<th>a</th>" in html and "<style>p{}" not in html  # tables stay, styles go
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)  # nothing remote
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not (jp_root_dir / "executed.txt").exists()  # rendering ran nothing

    raw = await jp_fetch("mlops", "api", "runs", run_id, "notebook",
                         params={"format": "ipynb"})
    assert raw.body == stored and json.loads(raw.body) == json.loads(stored)
    assert raw.headers["Content-Type"].startswith("application/x-ipynb+json")
    assert raw.headers["X-Content-SHA256"] == body["sha256"]
    assert "train.ipynb" in raw.headers["Content-Disposition"]


async def test_runs_without_a_notebook_unknown_runs_and_bad_formats(jp_fetch, monkeypatch,
                                                                     tmp_path):
    mlops.set_experiment("snap")
    with mlops.start_run(name="script") as plain:
        pass
    for fmt in ("html", "ipynb"):
        code, body = await _error(jp_fetch, "runs", plain.id, "notebook",
                                  params={"format": fmt})
        assert code == 404 and body["error"] == "not_found"
        assert "no stored notebook" in body["message"]
    code, body = await _error(jp_fetch, "runs", "0" * 32, "notebook")
    assert code == 404 and body["error"] == "not_found" and "does not exist" in body["message"]
    run_id, _, _ = _run_with_notebook(monkeypatch, tmp_path)
    code, body = await _error(jp_fetch, "runs", run_id, "notebook",
                              params={"format": "pdf"})
    assert code == 400 and body["field"] == "format"


async def test_a_stored_file_that_is_no_notebook_is_422_but_downloadable(jp_fetch, tracking):
    mlops.set_experiment("snap")
    with mlops.start_run(name="broken") as run:
        pass
    tracking.log_artifact_bytes(run.id, "source/broken.ipynb", b"not json", "alice")
    code, body = await _error(jp_fetch, "runs", run.id, "notebook")
    assert code == 422 and "cannot be read" in body["message"]
    raw = await jp_fetch("mlops", "api", "runs", run.id, "notebook",
                         params={"format": "ipynb"})
    assert raw.body == b"not json"


async def test_no_token_is_403(jp_fetch, monkeypatch, tmp_path):
    run_id, _, _ = _run_with_notebook(monkeypatch, tmp_path)
    for headers in ({"Authorization": ""}, {"Authorization": "token not-the-token"}):
        code, body = await _error(jp_fetch, "runs", run_id, "notebook", headers=headers)
        assert code == 403 and body["error"] == "forbidden"


async def test_readers_of_the_experiment_only(jp_fetch, monkeypatch, tmp_path):
    mlops.configure(user="alice")
    assert mlops.whoami()["role"] == "admin"
    mlops.grant("bob", "contributor")
    tokens = {name: mlops.issue_token(name) for name in ("bob", "vic")}
    mlops.configure(user="bob")
    run_id, _, _ = _run_with_notebook(monkeypatch, tmp_path, experiment="bobs")
    mlops.set_permissions("experiment", "bobs", readers=["carol"])

    async def as_(name, *parts, **kw):
        return await jp_fetch("mlops", "api", *parts,
                              headers={"Authorization": f"token {tokens[name]}"}, **kw)

    assert (await as_("bob", "runs", run_id, "notebook")).code == 200  # the owner
    with pytest.raises(HTTPClientError) as run_info:
        await as_("vic", "runs", run_id)
    for fmt in ("html", "ipynb"):  # what the run route answers, for either format
        with pytest.raises(HTTPClientError) as info:
            await as_("vic", "runs", run_id, "notebook", params={"format": fmt})
        assert info.value.code == run_info.value.code == 403
        body = json.loads(info.value.response.body)
        assert body["error"] == "permission_denied" and "readable only" in body["message"]
    # ...and the same copy is not downloadable as a plain artifact either.
    artifact = json.loads((await as_("bob", "runs", run_id)).body)["artifacts"][0]["path"]
    assert (await as_("bob", "runs", run_id, "artifacts", artifact)).code == 200
    for parts in (("artifacts", artifact), ("steps",)):
        with pytest.raises(HTTPClientError) as info:
            await as_("vic", "runs", run_id, *parts)
        assert info.value.code == 403, parts
        assert json.loads(info.value.response.body)["error"] == "permission_denied"


def test_the_snapshot_is_the_first_source_notebook():
    artifacts = [{"path": "model/manifest.json"}, {"path": "source/b.ipynb"},
                 {"path": "source/a.ipynb"}, {"path": "source/notes.txt"},
                 {"path": "other/c.ipynb"}]
    assert stored_notebook(artifacts) == {"path": "source/a.ipynb"}
    assert stored_notebook([{"path": "other/c.ipynb"}]) is None


def test_clean_html_escapes_what_could_run_or_load():
    cleaned = clean_html('<a href="javascript:alert(1)">x</a><iframe src="https://e.x">'
                         '</iframe><svg onload="x()"></svg><STYLE>b{}</STYLE>'
                         '<form action="/x"><input></form><p title="t">ok</p>')
    assert "javascript:" not in cleaned and "<iframe" not in cleaned
    assert "<svg" not in cleaned and "<form" not in cleaned and "<input" not in cleaned
    assert "b{}" not in cleaned and '<p title="t">ok</p>' in cleaned


def test_render_refuses_what_is_no_notebook_and_keeps_the_server_folder_out(
        tmp_path, monkeypatch):
    from mlops_jlab.errors import RuleViolation

    with pytest.raises(RuleViolation, match="cannot be read"):
        render_notebook_html(b'{"cells": 3}', "x.ipynb")
    # nbconvert looks for templates in the working folder unless told not to
    evil = tmp_path / "lab"
    evil.mkdir()
    (evil / "index.html.j2").write_text("<script>owned()</script>")
    monkeypatch.chdir(tmp_path)
    html = render_notebook_html(nbformat.writes(new_notebook(
        cells=[new_code_cell("1 + 1")])).encode(), "y.ipynb")
    assert "owned()" not in html and "<script" not in html
