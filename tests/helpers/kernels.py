"""Run code in a kernel of a real Jupyter server, as a browser does: start it through the
REST API and talk to it over its websocket channels (Jupyter's JSON message protocol)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


@dataclass
class Execution:
    """What one ``execute_request`` produced."""

    status: str
    stdout: str = ""
    errors: list[str] = field(default_factory=list)


def start_kernel(base_url: str, headers: dict[str, str]) -> str:
    """A new python3 kernel through ``POST api/kernels``; its id."""
    response = requests.post(f"{base_url}api/kernels", json={"name": "python3"},
                             headers=headers, timeout=60)
    response.raise_for_status()
    return str(response.json()["id"])


async def execute(base_url: str, headers: dict[str, str], kernel_id: str, code: str,
                  timeout: float = 120.0) -> Execution:
    """Run ``code`` in the kernel; its status (ok/error), printed text and errors."""
    ws_url = base_url.replace("http", "ws", 1) + f"api/kernels/{kernel_id}/channels"
    conn = await websocket_connect(HTTPRequest(ws_url, headers=headers,
                                               request_timeout=timeout))
    msg_id = uuid.uuid4().hex
    conn.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                   "session": uuid.uuid4().hex, "version": "5.3",
                   "date": datetime.now(timezone.utc).isoformat()},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
    out = Execution("unknown")
    replied = idle = False
    try:
        while not (replied and idle):
            raw = await conn.read_message()
            if raw is None:
                raise RuntimeError("the kernel's websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["header"]["msg_type"], msg.get("content", {})
            if kind == "stream":
                out.stdout += content.get("text", "")
            elif kind == "error":
                out.errors.append(f"{content.get('ename')}: {content.get('evalue')}")
            elif kind == "execute_reply":
                out.status, replied = content.get("status", "unknown"), True
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
    finally:
        conn.close()
    return out
