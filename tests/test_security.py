"""Security tests (issue 6): authentication on every route, XSRF for cookie sessions,
media types and body sizes on writes, path traversal, filter injection and webhook SSRF.

Each attack class is checked on both faces where it applies: the Python API raises a
typed error from ``mlops_jlab.errors``, the REST API answers 4xx JSON (never 500).
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import re
import threading
from http.cookies import SimpleCookie
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, update
from tornado import web

import mlops_jlab as mlops
from mlops_jlab.errors import InvalidInput, UntrustedModel
from mlops_jlab.monitoring import webhooks
from mlops_jlab.server.guard import DEFAULT_MAX_BODY_BYTES
from mlops_jlab.server.routes import ROUTES as _ROUTES
from mlops_jlab.store import schema as s
from mlops_jlab.store.paths import is_inside

VERBS = ("get", "post", "put", "patch", "delete")
WRITES = ("post", "put", "patch", "delete")


def verbs_of(handler: type[web.RequestHandler]) -> list[str]:
    """The verbs a handler implements (its own or inherited from an mlops base)."""
    return [v for v in VERBS if getattr(handler, v) is not getattr(web.RequestHandler, v)]


SAMPLES = {"run_id": "0" * 32, "ref": "sec", "name": "churn", "alias": "staging",
           "alert_id": "0abc", "key": "acc", "path": "model/manifest.json"}


def _sample(match: re.Match[str]) -> str:
    name, regex = match.group(1), match.group(2)
    for candidate in (SAMPLES.get(name), regex.split("|")[0], "0abc", "sec"):
        if candidate and re.fullmatch(regex, candidate):
            return candidate
    raise AssertionError(f"no sample for path argument {name} ({regex})")


def concrete(pattern: str) -> str:
    """A request path for a route pattern, with a sample for every path argument."""
    path = pattern.replace(r"\.", ".")
    return re.sub(r"\(\?P<(\w+)>([^)]*)\)", _sample, path).lstrip("/")


ROUTES = [(pattern, handler) for pattern, handler, _ in _ROUTES]
ROUTE_VERBS = [(pattern, verb) for pattern, handler in ROUTES for verb in verbs_of(handler)]
WRITE_ROUTES = [(p, v) for p, v in ROUTE_VERBS if v in WRITES]


@pytest.fixture
def raw(http_server_client, jp_base_url, jp_auth_header):
    """``raw(method, path, ...)``: one request to the test server, any headers, no
    defaults added (token only when ``auth=True``); returns the response, never raises."""

    async def send(method: str, path: str, *, body: bytes | str | None = None,
                   headers: dict[str, str] | None = None, auth: bool = True):
        all_headers = dict(jp_auth_header) if auth else {}
        all_headers.update(headers or {})
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        return await http_server_client.fetch(
            jp_base_url.rstrip("/") + "/" + path.lstrip("/"), method=method, body=body,
            headers=all_headers, raise_error=False, request_timeout=30,
            allow_nonstandard_methods=True, follow_redirects=False)

    return send


def error_body(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), response.body
    body = json.loads(response.body)
    assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str), body
    return body


# ------------------------------------------------------------------ 1. authentication
def test_every_route_and_verb_is_enumerated():
    """The list below is derived from ROUTES: a new route is covered without edits."""
    assert len(ROUTE_VERBS) >= len(ROUTES) and WRITE_ROUTES
    assert all(verbs_of(h) for _, h in ROUTES)


@pytest.mark.parametrize("pattern,verb", ROUTE_VERBS, ids=[f"{v.upper()} {p}"
                                                          for p, v in ROUTE_VERBS])
async def test_no_token_or_a_wrong_token_is_403_json(raw, pattern, verb):
    body = "{}" if verb in ("post", "put", "patch") else None
    for headers in ({}, {"Authorization": "token not-the-token"},
                    {"Authorization": "Bearer not-the-token"}):
        response = await raw(verb.upper(), concrete(pattern), body=body, auth=False,
                             headers={"Content-Type": "application/json", **headers})
        assert response.code == 403, (verb, pattern, headers, response.body)
        assert error_body(response)["error"] == "forbidden"


# ------------------------------------------------------------------ 2. XSRF on cookies
async def _login_cookies(raw, jp_serverapp) -> dict[str, str]:
    """Log in with the token the way a browser does and keep the cookies it sets."""
    token = jp_serverapp.identity_provider.token
    response = await raw("GET", f"login?next=%2F&token={token}", auth=False,
                         headers={"Accept": "text/html"})
    cookies: dict[str, str] = {}
    for header in response.headers.get_list("Set-Cookie"):
        jar = SimpleCookie(header)
        cookies.update({k: v.value for k, v in jar.items()})
    if "_xsrf" not in cookies:  # the login page sets it when rendering the form
        page = await raw("GET", "login", auth=False)
        for header in page.headers.get_list("Set-Cookie"):
            cookies.update({k: v.value for k, v in SimpleCookie(header).items()})
    assert any(k.startswith("username-") for k in cookies), cookies
    assert "_xsrf" in cookies, cookies
    return cookies


async def test_cookie_writes_without_the_xsrf_token_are_refused(raw, jp_serverapp):
    cookies = await _login_cookies(raw, jp_serverapp)
    jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
    # the cookie alone authenticates reads...
    read = await raw("GET", "mlops/api/experiments", auth=False, headers={"Cookie": jar})
    assert read.code == 200, read.body
    tried = 0
    for pattern, verb in WRITE_ROUTES:
        response = await raw(verb.upper(), concrete(pattern), auth=False,
                             body="{}" if verb != "delete" else None,
                             headers={"Cookie": jar, "Content-Type": "application/json"})
        assert response.code == 403, (verb, pattern, response.body)
        assert "xsrf" in error_body(response)["message"].lower()
        tried += 1
    assert tried == len(WRITE_ROUTES)
    # ...and with the XSRF header the same write gets past the check (so the 403 above
    # was the XSRF check, not a failed login)
    response = await raw("POST", "mlops/api/experiments", auth=False,
                         body=json.dumps({"name": "via-cookie"}),
                         headers={"Cookie": jar, "X-XSRFToken": cookies["_xsrf"],
                                  "Content-Type": "application/json"})
    assert response.code != 403 or "xsrf" not in response.body.decode().lower()


# ------------------------------------------------------------------ 3. media types
BAD_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
             "text/html", "application/xml", None, "application/json; charset=latin-1",
             "application/jsonx"]
MULTIPART = (b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--x--\r\n')
HANDLERS = dict(ROUTES)


@pytest.mark.parametrize("pattern,verb", WRITE_ROUTES, ids=[f"{v.upper()} {p}"
                                                           for p, v in WRITE_ROUTES])
async def test_writes_with_a_non_json_body_are_415_json(raw, pattern, verb):
    accepted = HANDLERS[pattern].body_types
    for kind in BAD_TYPES:
        if kind in accepted:
            continue
        headers = {"Content-Type": kind} if kind else {}
        body: bytes = b'{"name": "x"}'
        if kind == "multipart/form-data":  # a well-formed form (Tornado parses those)
            headers, body = {"Content-Type": "multipart/form-data; boundary=x"}, MULTIPART
        response = await raw(verb.upper(), concrete(pattern), body=body, headers=headers)
        assert response.code == 415, (verb, pattern, kind, response.body)
        answer = error_body(response)
        assert answer["error"] == "unsupported_media_type"
        if "charset" not in (kind or ""):
            assert all(t in answer["message"] for t in accepted), answer
        # without credentials the same request learns nothing but 403
        response = await raw(verb.upper(), concrete(pattern), body=body, headers=headers,
                             auth=False)
        assert response.code == 403


async def test_json_with_charset_and_empty_bodies_pass_the_media_type_check(raw):
    response = await raw("POST", "mlops/api/experiments", body=json.dumps({"name": "cs"}),
                         headers={"Content-Type": "Application/JSON; charset=UTF-8"})
    assert response.code != 415, response.body
    for headers in ({}, {"Content-Type": "application/json"},
                    {"Content-Type": "text/plain"}):  # no body: nothing to misread
        response = await raw("POST", "mlops/api/alerts/0abc/acknowledge", headers=headers)
        assert response.code == 404 and error_body(response)["error"] == "not_found"


def test_handlers_declare_the_bodies_they_take():
    from mlops_jlab.server.base import MlopsHandler
    from mlops_jlab.server.deployments import PredictHandler

    assert MlopsHandler.body_types == ("application/json",)
    assert "application/vnd.apache.arrow.stream" in PredictHandler.body_types
    assert PredictHandler.max_body_bytes > MlopsHandler.max_body_bytes


# ------------------------------------------------------------------ 4. body size
async def test_an_oversized_body_is_413_json_before_parsing(raw):
    too_big = b"[" + b"1," * (DEFAULT_MAX_BODY_BYTES // 2) + b"1]"  # valid JSON, 10 MB+
    assert len(too_big) > DEFAULT_MAX_BODY_BYTES
    response = await raw("POST", "mlops/api/experiments", body=too_big,
                         headers={"Content-Type": "application/json"})
    assert response.code == 413, response.body
    body = error_body(response)
    assert body["error"] == "payload_too_large" and str(DEFAULT_MAX_BODY_BYTES) in \
        body["message"]
    listed = await raw("GET", "mlops/api/experiments")
    assert json.loads(listed.body)["experiments"] == []


# ------------------------------------------------------------------ 5. path traversal
TRAVERSALS = ["../escape", "../../etc/passwd", "a/../../b", "/etc/passwd", "/abs/x",
              "C:/Windows/x", "..\\..\\x", "a\\..\\..\\b", ".", "..", "a//b", "./a",
              "a/\x00b", "a/b\nc", "x/" * 600]
ENCODED = ["%2e%2e%2fescape", "%2E%2E/%2E%2E/etc/passwd", "..%2fescape", "%252e%252e%252f",
           "..%252f..%252fetc%252fpasswd", "%2fetc%2fpasswd"]


def test_artifact_paths_cannot_leave_the_run(mlops_home, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("x")
    mlops.set_experiment("sec")
    refused = 0
    with mlops.start_run() as run:
        for bad in TRAVERSALS:
            with pytest.raises(InvalidInput):
                run.log_artifact(str(src), artifact_path=bad)
            with pytest.raises(InvalidInput):
                run.log_text("x", bad)
            refused += 2
        # URL-encoded forms are names, not paths: they stay one literal file in the run
        for enc in ENCODED:
            stored = run.log_text("x", f"enc/{enc}")
            assert stored["path"] == f"enc/{enc}"
    assert refused == 2 * len(TRAVERSALS)
    paths = [a["path"] for a in mlops.backend().tracking.list_artifacts(run.id)]
    assert all(not p.startswith(("/", "..")) and "/../" not in p for p in paths)


def test_registry_names_aliases_and_model_sources_refuse_traversal(mlops_home, tmp_path):
    from mlops_jlab.client.registry import load_model, register_model, set_alias

    cases = 0
    mlops.set_experiment("sec")
    with mlops.start_run() as run:
        pass
    for bad in [*TRAVERSALS, *ENCODED, "a/b", "models/../x", ""]:
        with pytest.raises(InvalidInput):
            register_model(run.id, bad)
        with pytest.raises(InvalidInput):
            set_alias("m", bad, 1)
        cases += 2
    for bad in TRAVERSALS[:9]:
        with pytest.raises(InvalidInput):
            register_model(run.id, "m", model_path=bad)
        with pytest.raises(InvalidInput):
            load_model(f"runs:/{run.id}/{bad}")
        cases += 2
    assert cases > 50


def test_a_logged_folder_with_a_symlink_out_is_refused(mlops_home, tmp_path):
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("top secret")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "ok.txt").write_text("fine")
    (folder / "inner.txt").symlink_to(folder / "ok.txt")  # inside: stored as content
    mlops.set_experiment("sec")
    with mlops.start_run() as run:
        assert {a["path"] for a in run.log_artifact(str(folder))} == {"ok.txt", "inner.txt"}
        (folder / "leak.txt").symlink_to(secret)
        with pytest.raises(InvalidInput, match="symbolic link"):
            run.log_artifact(str(folder))
        (folder / "leak.txt").unlink()
        (folder / "leakdir").symlink_to(secret.parent, target_is_directory=True)
        with pytest.raises(InvalidInput, match="symbolic link"):
            run.log_artifact(str(folder))
    stored = mlops.backend().tracking.list_artifacts(run.id)  # type: ignore[attr-defined]
    assert all(a["path"] in ("ok.txt", "inner.txt") for a in stored)
    blobs = mlops.backend().tracking.artifacts  # type: ignore[attr-defined]
    assert all(blobs.read_bytes(a["sha256"]) != b"top secret" for a in stored)


def test_a_model_folder_with_a_symlink_out_is_not_loaded(tmp_path):
    from mlops_jlab.models.loader import load_folder

    folder = tmp_path / "m"
    folder.mkdir()
    (tmp_path / "secret").write_text("{}")
    (folder / "manifest.json").symlink_to(tmp_path / "secret")
    with pytest.raises(UntrustedModel, match="symbolic link"):
        load_folder(str(folder))


def test_sibling_prefix_is_not_inside(tmp_path):
    root, sibling = tmp_path / "root_dir", tmp_path / "root_dirX"
    root.mkdir()
    sibling.mkdir()
    assert is_inside(root, root / "a" / "b")
    assert not is_inside(root, sibling / "nb.ipynb")
    (root / "link").symlink_to(sibling)
    assert not is_inside(root, root / "link" / "nb.ipynb")
    from mlops_jlab.registry.lineage import notebook_relative

    assert notebook_relative(str(sibling / "nb.ipynb"), str(root)) is None


def _sklearn_version():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    mlops.set_experiment("sec")
    with mlops.start_run() as run:
        run.log_model(LogisticRegression(max_iter=500).fit(X, y), input_example=X)
    return run, mlops.register_model(run, "sec-model")


def test_stored_paths_edited_in_the_database_are_refused_on_read(mlops_home, tmp_path):
    from mlops_jlab.client.registry import load_model
    from mlops_jlab.serving.export import export_deployment

    run, version = _sklearn_version()
    backend = mlops.backend()
    tracking, registry = backend.tracking, backend.registry  # type: ignore[attr-defined]
    evil = "../../../../outside.txt"
    with tracking.db.write() as conn:
        conn.execute(update(s.artifacts).where(s.artifacts.c.run_id == run.id,
                                               s.artifacts.c.path == "model/manifest.json")
                     .values(path=evil))
    with pytest.raises(InvalidInput):
        tracking.artifact_blob(run.id, evil)
    with tracking.db.write() as conn:  # a tampered model folder: registering refuses it
        conn.execute(update(s.artifacts).where(s.artifacts.c.run_id == run.id,
                                               s.artifacts.c.path == evil)
                     .values(path="model/../../manifest.json"))
        conn.execute(insert_artifact(run.id, "model/manifest.json", conn))
    with pytest.raises(UntrustedModel, match="unsafe"):
        mlops.register_model(run, "sec-model")
    # a version whose file list was edited: loading and exporting both refuse
    files = dict(version.files)
    files["../../../escaped.skops"] = files.pop(next(k for k in files if k.endswith("skops")))
    with registry.db.write() as conn:
        conn.execute(update(s.model_versions).where(s.model_versions.c.model == "sec-model",
                                                    s.model_versions.c.version == 1)
                     .values(files=files))
    with pytest.raises(UntrustedModel, match="unsafe"):
        load_model("models:/sec-model/1")
    backend.serving.deploy("sec-model", 1, "alice", name="sec-export")  # type: ignore
    target = tmp_path / "deep" / "er" / "bundle"
    with pytest.raises(UntrustedModel, match="unsafe"):
        export_deployment(backend.serving, registry, "sec-export", target)  # type: ignore
    assert not list(tmp_path.rglob("escaped.skops"))


def insert_artifact(run_id: str, path: str, conn):
    """A second (valid) row for the manifest so the run still looks like a model."""
    row = conn.execute(select(s.artifacts).where(s.artifacts.c.run_id == run_id)).first()
    return s.artifacts.insert().values(run_id=run_id, path=path, sha256=row.sha256,
                                       size=row.size, created_at=row.created_at)


async def test_rest_artifact_and_name_routes_refuse_traversal(raw, mlops_home):
    mlops.set_experiment("sec")
    with mlops.start_run() as run:
        run.log_text("hello", "ok.txt")
    ok = await raw("GET", f"mlops/api/runs/{run.id}/artifacts/ok.txt")
    assert ok.code == 200 and ok.body == b"hello"
    attempts = ["../../../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd",
                "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%252e%252e%252fetc%252fpasswd",
                "%2Fetc%2Fpasswd", "ok.txt%00", "a%5C..%5C..%5Cx", "..%5C..%5Cx"]
    count = 0
    for attempt in attempts:
        response = await raw("GET", f"mlops/api/runs/{run.id}/artifacts/{attempt}")
        assert 400 <= response.code < 500, (attempt, response.code)
        assert b"root:" not in response.body
        error_body(response)
        for path in (f"mlops/api/models/{attempt}", f"mlops/api/experiments/{attempt}",
                     f"mlops/api/deployments/{attempt}",
                     f"mlops/api/models/m/aliases/{attempt}",
                     f"mlops/api/monitoring/{attempt}/drift"):
            response = await raw("GET", path)
            assert 400 <= response.code < 500, (path, response.code, response.body)
            assert b"root:" not in response.body
            if "/" not in attempt:  # one path segment: our route answers, in JSON
                error_body(response)  # (a literal "../" matches no route: Jupyter's 404)
            count += 1
    # names in bodies
    for bad in ["../x", "/abs", "%2e%2e%2fx", "a/b", "a\x00b"]:
        response = await raw("POST", "mlops/api/models", body=json.dumps({"name": bad}),
                             headers={"Content-Type": "application/json"})
        assert response.code == 400, (bad, response.body)
        error_body(response)
        count += 1
    assert count == len(attempts) * 5 + 5


def test_retrain_notebooks_stay_inside_the_root(mlops_home, tmp_path):
    from mlops_jlab.monitoring.alerts import normalize_rule
    from mlops_jlab.monitoring.retrain import Retrainer

    for bad in ["/etc/passwd", "../train.ipynb", "a/../../b.ipynb", "nb\x00.ipynb"]:
        with pytest.raises(InvalidInput):
            normalize_rule({"kind": "drift_share", "threshold": 0.5,
                            "action": {"type": "retrain", "notebook": bad}})
        with pytest.raises(InvalidInput):
            normalize_rule({"kind": "drift_share", "threshold": 0.5,
                            "action": {"type": "retrain", "cwd": bad}})
    root = tmp_path / "root_dir"
    root.mkdir()
    (tmp_path / "root_dirX").mkdir()
    (tmp_path / "root_dirX" / "nb.ipynb").write_text("{}")
    (root / "escape").symlink_to(tmp_path / "root_dirX")
    retrainer = Retrainer(None, mlops_home, root=root)
    assert retrainer.inside_root("train.ipynb", "notebook") == root / "train.ipynb"
    for bad in ["../root_dirX/nb.ipynb", "escape/nb.ipynb", str(tmp_path / "root_dirX")]:
        with pytest.raises(RuntimeError, match="outside"):
            retrainer.inside_root(bad, "notebook")
    # a run's recorded source path is the client's word: a file outside the root (here a
    # stand-in for the audit key) is never read, nor echoed in the error
    secret = tmp_path / "root_dirX" / "audit.key"
    secret.write_text("# mlops-jlab audit keys: 0123456789abcdef")

    class Run:
        id, artifacts, source = "r1", [], {"notebook_abspath": str(secret)}

    with pytest.raises(RuntimeError, match="no stored notebook") as info:
        retrainer._notebook({}, Run(), "m v1")
    assert "0123456789abcdef" not in str(info.value)


# ------------------------------------------------------------------ 6. filter injection
INJECTIONS = ["'; DROP TABLE runs; --", '" OR 1=1', "params.model = 'x' OR 1=1",
              "params.model = 'x'; DROP TABLE runs; --", "params.model = \u2018rf\u2019",
              "params.model = \u201crf\u201d", "params.model = 'rf' -- comment",
              "params.model = 'rf' /* comment */", "params.model = 'a\x00b'",
              "params.`a\x00` = 'x'", "metrics.acc > 0 UNION SELECT * FROM runs",
              "tags.`x`; DROP` = '1'", "attributes.name LIKE '%' ESCAPE '\\'",
              "params.model = 'x' AND 1=1; DELETE FROM runs", "1=1", "' OR ''='",
              "metrics.acc > (SELECT 1)", "metrics.`acc` > 0 ;", "params.model = $$x$$"]
ORDER_INJECTIONS = ["metrics.acc; DROP TABLE runs", "metrics.acc DESC, (SELECT 1)",
                    "attributes.name --", "metrics.`a\x00`", "attributes.start_time DESC;"
                    " DELETE FROM runs", "CASE WHEN 1=1 THEN 1 END"]


def _table_counts(tracking) -> dict[str, int]:
    with tracking.db.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (s.runs, s.experiments, s.params, s.metrics, s.tags)}


def test_filter_and_order_injection_is_invalid_input(mlops_home, tracking):
    mlops.set_experiment("sec")
    for i in range(3):
        with mlops.start_run(params={"model": "rf"}) as run:
            run.log_metric("acc", i / 10)
    before = _table_counts(tracking)
    for text in INJECTIONS:
        with pytest.raises(InvalidInput):
            mlops.search_runs(filter=text)
    for text in ORDER_INJECTIONS:
        with pytest.raises(InvalidInput):
            mlops.search_runs(order_by=text)
    # metacharacters inside a quoted literal are just data
    literal = "params.model = '\\'; DROP TABLE runs; --'"
    assert len(mlops.search_runs(filter=literal)) == 0
    assert _table_counts(tracking) == before


async def test_rest_filter_injection_is_400_json(raw, mlops_home, tracking):
    mlops.set_experiment("sec")
    with mlops.start_run(params={"model": "rf"}):
        pass
    before = _table_counts(tracking)
    for name, texts in (("filter", INJECTIONS), ("order_by", ORDER_INJECTIONS)):
        for text in texts:
            response = await raw("GET", f"mlops/api/runs?{name}={quote(text)}")
            assert response.code == 400, (text, response.body)
            assert error_body(response)["error"] in ("bad_filter", "bad_order_by",
                                                     "bad_request")
    assert _table_counts(tracking) == before


# ------------------------------------------------------------------ 7. webhooks
INTERNAL_URLS = ["http://127.0.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
                 "http://0.0.0.0/", "http://[::]/", "http://2130706433/", "http://0x7f.1/",
                 "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/",
                 "http://localhost/", "http://LOCALHOST./", "http://localhost:8888/api",
                 "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
                 "http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/",
                 "http://100.64.0.1/", "http://[fc00::1]/", "http://224.0.0.1/",
                 "https://127.0.0.1:443/", "http://[0:0:0:0:0:ffff:7f00:1]/",
                 # IPv6 forms that embed an internal IPv4 address
                 "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/",  # NAT64
                 "http://[64:ff9b::10.0.0.1]/", "http://[64:ff9b:1::808:808]/",  # local NAT64
                 "http://[64:ff9b:1:7f00:1::]/",
                 "http://[::127.0.0.1]/", "http://[::a9fe:a9fe]/",  # IPv4-compatible
                 "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/",  # IPv4-mapped
                 "http://[::ffff:0:127.0.0.1]/",  # IPv4-translated (SIIT)
                 "http://[2002:7f00:0001::]/", "http://[2002:a9fe:a9fe::1]/",  # 6to4
                 "http://[2002:c0a8:0101::1]/", "http://[2002:e000:1::]/",
                 "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
                 "http://[2001:0:7f00:1::1]/"]  # Teredo, server 127.0.0.1
# IPv6 forms of public IPv4 addresses (8.8.8.8) stay usable
EMBEDDING_PUBLIC_URLS = ["http://[64:ff9b::808:808]/", "http://[2002:808:808::1]/"]
MALFORMED_URLS = ["http://example.com:99999/", "http://example.com:abc/", "file:///etc/passwd",
                  "gopher://127.0.0.1/", "http://user:pw@example.com/", "//127.0.0.1/",
                  "http:///x", "javascript:alert(1)", "http://[::1/"]


def test_webhooks_to_internal_addresses_are_refused(monkeypatch):
    monkeypatch.delenv("MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    for url in INTERNAL_URLS + MALFORMED_URLS:
        with pytest.raises(InvalidInput):
            webhooks.check_url(url)
        outcome = webhooks.deliver(url, {"alert": "x"})
        assert outcome["ok"] is False and "error" in outcome, url


def test_ipv6_forms_of_public_addresses_pass_and_internal_ones_pass_only_when_allowed(
        monkeypatch):
    monkeypatch.delenv("MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    for url in EMBEDDING_PUBLIC_URLS:
        parts, address = webhooks.check_url(url)
        assert f"[{address}]" == parts.netloc
    for url in ["http://[64:ff9b::7f00:1]/", "http://[::127.0.0.1]/",
                "http://[2002:7f00:0001::]/"]:
        with pytest.raises(InvalidInput, match="MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS"):
            webhooks.check_url(url)
        monkeypatch.setenv("MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS", "1")
        literal = url.split("[")[1].split("]")[0]
        assert ipaddress.ip_address(webhooks.check_url(url)[1]) == \
            ipaddress.ip_address(literal)
        monkeypatch.delenv("MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS")


def test_webhook_redirects_are_not_followed(monkeypatch):
    """A webhook answering 302 to an internal address is not followed: the outcome is
    the 302 itself and the internal target sees no request."""
    hits: list[str] = []

    class Internal(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    internal = http.server.HTTPServer(("127.0.0.1", 0), Internal)

    class Redirect(Internal):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{internal.server_port}/admin")
            self.end_headers()

    outer = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    threads = [threading.Thread(target=srv.serve_forever, daemon=True)
               for srv in (internal, outer)]
    for t in threads:
        t.start()
    try:
        # the outer hook stands for a public host: private addresses allowed for it only
        monkeypatch.setenv("MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS", "1")
        outcome = webhooks.deliver(f"http://127.0.0.1:{outer.server_port}/hook", {"a": 1})
    finally:
        for srv in (internal, outer):
            srv.shutdown()
            srv.server_close()
    assert outcome == {"ok": False, "status": 302}
    assert hits == []


async def test_unknown_api_paths_answer_json(raw):
    """A path no route matches (or a run id that is not hex) is 404 JSON from the API,
    not Jupyter's HTML page; without a token it is 403 like every route."""
    for method, path in (("GET", "mlops/api/nope"), ("PATCH", "mlops/api/runs/not-hex"),
                         ("DELETE", "mlops/api/alerts/XYZ/acknowledge"),
                         ("GET", "mlops/api/runs/%C3%A9")):
        body = "{}" if method == "PATCH" else None
        response = await raw(method, path, body=body,
                             headers={"Content-Type": "application/json"})
        assert response.code == 404 and error_body(response)["error"] == "not_found"
        response = await raw(method, path, body=body, auth=False,
                             headers={"Content-Type": "application/json"})
        assert response.code == 403
