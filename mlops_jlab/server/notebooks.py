"""``/mlops/api/runs/{id}/notebook``: the notebook a run stored when it started, as the
run saw it (the lineage graph opens it), rendered read-only or as stored.

The HTML is nbconvert's ``lab`` template with nothing that runs or loads: no script
elements (require.js, MathJax, mermaid, widget managers, JavaScript outputs and widget
state are left out), the HTML of markdown cells and outputs cleaned with bleach
(unsafe tags escaped, ``<style>`` elements dropped), and a Content-Security-Policy
that forbids scripts and every resource not inlined (images are ``data:`` URLs; the
CSS is inlined). Nothing is executed. The frontend shows it in an iframe with
``sandbox=""``. It travels inside a JSON answer, never as a ``text/html`` page of the
Jupyter origin.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput, RuleViolation
from ..registry.lineage import notebook_relative
from ..tracking.snapshot import NotebookSnapshot, notebook_snapshot
from .base import MlopsHandler

log = logging.getLogger(__name__)

FORMATS = ("html", "ipynb")
#: notebooks larger than this are not rendered (format=ipynb still returns them)
MAX_RENDER_BYTES = 64 * 1024 * 1024
#: what the rendered document may load: inline CSS, data: images and fonts; no script
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
       "base-uri 'none'; form-action 'none'")
IPYNB = "application/x-ipynb+json"

_TEMPLATE_NAME = "mlops_snapshot.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.mlops_csp }}">
{{ super() }}
{%- endblock html_head -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block data_javascript scoped -%}
<div class="jp-OutputArea-output jp-RenderedText"><pre>[JavaScript output: not run in \
the snapshot]</pre></div>
{%- endblock data_javascript -%}
{%- block data_widget_view scoped -%}
<div class="jp-OutputArea-output jp-RenderedText"><pre>[interactive widget: not shown \
in the snapshot]</pre></div>
{%- endblock data_widget_view -%}
{%- block footer -%}
</html>
{%- endblock footer -%}
"""

# bleach's list plus what notebooks render (headings, tables as pandas writes them,
# images, details); never script, style, iframe, object, embed, form, input, svg
_TAGS = frozenset({
    "a", "abbr", "acronym", "b", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption",
    "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt",
    "u", "ul", "var"})
_ATTRIBUTES = {
    "*": ["class", "id", "title", "lang", "dir", "data-mime-type"],
    "a": ["href", "name", "title", "class", "id"],
    "img": ["src", "alt", "width", "height", "title", "class", "id"],
    "td": ["colspan", "rowspan", "align", "class", "id"],
    "th": ["colspan", "rowspan", "align", "scope", "class", "id"],
    "ol": ["start", "type", "class", "id"],
    "col": ["span", "class"], "colgroup": ["span", "class"],
    "details": ["open", "class", "id"],
}
_PROTOCOLS = frozenset({"http", "https", "mailto", "data"})
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.IGNORECASE | re.DOTALL)


def clean_html(element: object) -> str:
    """HTML of a markdown cell or an output with only harmless tags and attributes
    (others escaped, so they show as text); ``<style>`` elements are dropped."""
    import bleach

    text = element.decode() if isinstance(element, bytes) else str(element)
    return str(bleach.clean(_STYLE_ELEMENT.sub("", text), tags=_TAGS,
                            attributes=_ATTRIBUTES, protocols=_PROTOCOLS, strip=False,
                            strip_comments=True))


def render_notebook_html(data: bytes, title: str) -> str:
    """The stored notebook ``data`` as one self-contained, script-free HTML document.

    :class:`RuleViolation` when it is too large or not a readable notebook."""
    if len(data) > MAX_RENDER_BYTES:
        raise RuleViolation(f"the stored notebook is {len(data) / 2**20:.0f} MiB, more "
                            f"than the {MAX_RENDER_BYTES // 2**20} MiB rendered as HTML; "
                            "download it with format=ipynb")
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:  # not UTF-8, not JSON, not a notebook
        raise RuleViolation(f"the stored notebook cannot be read: {exc}") from None
    config = Config({"ExecutePreprocessor": {"enabled": False}})
    exporter = HTMLExporter(
        config=config, template_name="lab", template_file=_TEMPLATE_NAME,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        extra_template_basedirs=[],  # not the server's working folder
        sanitize_html=True, embed_images=False, exclude_anchor_links=True)
    exporter.register_filter("clean_html", clean_html)
    resources = {"metadata": {"name": title}, "mlops_csp": CSP}
    try:
        html, _ = exporter.from_notebook_node(notebook, resources=resources)
    except Exception as exc:
        log.exception("mlops_jlab: cannot render the stored notebook %s", title)
        raise RuleViolation(f"the stored notebook cannot be rendered: {exc}") from None
    return str(html)


class _Rendered:
    """The last few rendered notebooks by content hash (a snapshot never changes)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, snapshot: NotebookSnapshot) -> str:
        key = (snapshot.sha256, snapshot.name)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        html = render_notebook_html(snapshot.data, snapshot.name)
        with self._lock:
            self._items[key] = html
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return html


RENDERED = _Rendered()


class RunNotebookHandler(MlopsHandler):
    """``GET /runs/{id}/notebook?format=html|ipynb&artifact=PATH``: the notebook the run
    stored (its source copy; ``artifact`` picks another stored notebook, e.g. the
    executed ``output/<name>.ipynb`` of a papermill run).
    ``html`` (default): JSON with the rendered document and the copy's facts
    (``artifact``, ``sha256``, ``size``, ``stored_at``, ``source_hash``,
    ``matches_source``, ``notebook_path``); ``ipynb``: the stored bytes as they are."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        fmt = self.get_query_argument("format", None) or "html"
        if fmt not in FORMATS:
            raise InvalidInput("format must be html or ipynb", field="format")
        artifact = self.get_query_argument("artifact", None) or None
        if artifact is not None and not artifact.endswith(".ipynb"):
            raise InvalidInput("artifact must be the path of a stored .ipynb notebook",
                               field="artifact")
        snapshot = await self.call(notebook_snapshot, self.mlops.tracking, run_id,
                                   self.username, artifact)
        if fmt == "ipynb":
            self.set_header("Content-Disposition",
                            f"attachment; filename*=UTF-8''{quote(snapshot.name, safe='')}")
            self.set_header("X-Content-SHA256", snapshot.sha256)
            self.finish(snapshot.data, set_content_type=IPYNB)  # not APIHandler's JSON
            return
        html = await self.call(RENDERED.get, snapshot)
        body: dict[str, Any] = snapshot.describe()
        body["notebook_path"] = notebook_relative(
            snapshot.source.get("notebook_abspath"), self.mlops.root_dir)
        body["html"] = html
        self.reply(body)
