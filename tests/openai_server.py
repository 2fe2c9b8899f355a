"""A small OpenAI-compatible HTTP server for tests and benchmarks: real HTTP on 127.0.0.1.

It answers ``GET /v1/models`` and ``POST /v1/chat/completions`` (plain and streamed) with
deterministic answers built from the request: for a structured request it generates a JSON
object valid against the schema sent (``response_format`` ``json_schema``, or the schema that
podtools writes into the prompt in the fallback modes), filling ``segment`` ids and quote texts
from the ``[id] Speaker: text`` lines of the prompt. Faults are scripted per request:

    server.push({"status": 429, "headers": {"Retry-After": "0"}}, {"status": 500})
    server.push({"hang": 3.0})              # answer only after 3 s (past a client timeout)
    server.push({"content": '{"summary": "cut'})   # this exact message content
    server.push({"body": "<html>..</html>", "content_type": "text/html"})  # raw 200 body
    server.push({"status": 502, "body": "<html>..</html>"})  # raw error page
    server.push({"refusal": "I can't help with that."})
    server.push({"drip": 2.0})              # streamed: headers at once, then a chunk every 2 s
    server.push({"first_after": 5.0})       # streamed: headers at once, the first chunk after 5 s
    server.push({"drop": True})             # the connection closes without an answer (a restart)

and persistently: ``key`` (requests without ``Authorization: Bearer <key>`` get 401),
``models`` (other model names get 404), ``html_everything`` (an HTML page for every request),
``props`` (a dict served at ``GET /props``, as llama.cpp's server does: ``total_slots``),
``reject_json_schema`` (HTTP 500 for json_schema, as
llama.cpp's server does), ``usage`` (False: no usage block in answers), ``echo_key`` (every
string in an answer ends with the request's API key, as a hostile or broken server might).
"""

from __future__ import annotations

import collections
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

LINE = re.compile(r"^\s*(?:[-*>]\s*)?\[(\d+)\]\s*(?:([^:\n\[\]]{1,40}):\s*)?(.+?)\s*$", re.M)


class ScriptedServer:
    def __init__(self, models=("test-model",), key: Optional[str] = None):
        self.models = list(models)
        self.key = key
        self.reject_json_schema = False
        self.usage = True
        self.html_everything = False
        self.echo_key = False
        self.props: Optional[dict] = None  # served at GET /props (llama.cpp's server info), None: 404
        self.hangups = 0  # streamed answers the client closed before the end
        self.script: collections.deque[dict] = collections.deque()
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server._handle(self, "GET")

            def do_POST(self):
                server._handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "ScriptedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def push(self, *actions: dict) -> None:
        with self.lock:
            self.script.extend(actions)

    def reset(self) -> None:
        with self.lock:
            self.script.clear()
            self.requests.clear()

    @property
    def chat_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    # -- handling ----------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        record = {"method": method, "path": h.path, "headers": {k.lower(): v for k, v in h.headers.items()}, "body": body, "time": time.time()}
        with self.lock:
            self.requests.append(record)
        try:
            if self.html_everything:  # a web server that is not an OpenAI API at all
                page = b"<!DOCTYPE html><html><body><h1>It works!</h1></body></html>"
                return self._send_raw(h, 200, page, "text/html")
            if self.key is not None and h.headers.get("Authorization") != f"Bearer {self.key}":
                return self._send_json(h, 401, {"error": {"message": "Incorrect API key provided: "
                                                          f"{(h.headers.get('Authorization') or '')[7:]}",
                                                          "type": "invalid_request_error", "code": "invalid_api_key"}})
            if method == "GET" and h.path.rstrip("/") == "/props" and self.props is not None:
                return self._send_json(h, 200, self.props)
            if method == "GET" and h.path.rstrip("/").endswith("/v1/models"):
                return self._send_json(h, 200, {"object": "list", "data": [
                    {"id": m, "object": "model", "created": 0, "owned_by": "tests"} for m in self.models]})
            if method == "POST" and h.path.rstrip("/").endswith("/v1/chat/completions"):
                return self._chat(h, body)
            return self._send_json(h, 404, {"error": {"message": f"no route {h.path}", "type": "not_found"}})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def _chat(self, h, body: dict) -> None:
        with self.lock:
            action = self.script.popleft() if self.script else {}
        if "hang" in action:
            time.sleep(action["hang"])
        if action.get("drop"):  # the server goes away (a restart): the connection closes, no answer
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if "status" in action and "body" in action:
            return self._send_raw(h, action["status"], action["body"].encode(), action.get("content_type", "text/html"),
                                  action.get("headers"))
        if "status" in action:
            payload = action.get("json", {"error": {"message": f"scripted HTTP {action['status']}", "type": "server_error"}})
            return self._send_json(h, action["status"], payload, action.get("headers"))
        if "body" in action:
            return self._send_raw(h, 200, action["body"].encode(), action.get("content_type", "text/plain"))
        if body.get("model") not in self.models:
            return self._send_json(h, 404, {"error": {"message": f"The model `{body.get('model')}` does not exist",
                                                      "type": "invalid_request_error", "code": "model_not_found"}})
        rf = body.get("response_format") or {}
        if self.reject_json_schema and rf.get("type") == "json_schema":
            return self._send_json(h, 500, {"error": {"message": "response_format json_schema not supported",
                                                      "type": "server_error"}})
        refusal = action.get("refusal")
        content = action.get("content")
        if content is None and refusal is None:
            content = answer(body)
        if self.echo_key and content is not None:
            content = _echo(content, (h.headers.get("Authorization") or "")[7:])
        messages = body.get("messages", [])
        prompt_tokens = sum(len(m.get("content") or "") for m in messages) // 4 + 1
        completion_tokens = len(content or "") // 4 + 1
        message = {"role": "assistant", "content": content, "refusal": refusal}
        finish = action.get("finish_reason", "stop")
        if body.get("stream"):
            return self._stream(h, body, content or "", finish, prompt_tokens, completion_tokens,
                                action.get("drip", 0.0), action.get("first_after", 0.0), refusal)
        payload = {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        }
        if self.usage:
            payload["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                "total_tokens": prompt_tokens + completion_tokens}
        self._send_json(h, 200, payload)

    def _stream(self, h, body, content: str, finish: str, pt: int, ct: int, drip: float = 0.0,
                first_after: float = 0.0, refusal: Optional[str] = None) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.flush()
        base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": body.get("model")}
        pieces = [content[i:i + 7] for i in range(0, len(content), 7)] or [""]
        try:
            for i, piece in enumerate(pieces):
                time.sleep(first_after if i == 0 else drip)
                delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                if refusal and i == 0:  # as OpenAI streams a refusal: in its own delta field
                    delta = {"role": "assistant", "content": None, "refusal": refusal}
                chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                h.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            with self.lock:
                self.hangups += 1  # the client closed the stream: stop "generating"
            return
        last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
        h.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
        if self.usage:
            u = {**base, "choices": [], "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}
            h.wfile.write(f"data: {json.dumps(u)}\n\n".encode())
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()
        h.close_connection = True

    def _send_json(self, h, status: int, payload: dict, headers: dict | None = None) -> None:
        self._send_raw(h, status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(self, h, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()


# -- deterministic answers ----------------------------------------------------------------------


def _echo(content: str, key: str) -> str:
    """``content`` with ``key`` appended to every string in it (JSON answers stay valid)."""
    def walk(v):
        if isinstance(v, str):
            return f"{v} {key}"
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: (x if k in ("segment", "id") else walk(x)) for k, x in v.items()}
        return v

    try:
        return json.dumps(walk(json.loads(content)))
    except ValueError:
        return f"{content} {key}"


def request_schema(body: dict) -> Optional[dict]:
    """The JSON Schema of a structured request: response_format, or the one written in the prompt."""
    rf = body.get("response_format") or {}
    if rf.get("type") == "json_schema":
        return rf["json_schema"]["schema"]
    if rf.get("type") == "json_object" and isinstance(rf.get("schema"), dict):  # llama-cpp-python's form
        return rf["schema"]
    for m in body.get("messages", []):
        text = m.get("content") or ""
        i = text.find("JSON Schema:\n")
        if i != -1:
            try:
                return json.loads(text[i + len("JSON Schema:\n"):].split("\n", 1)[0])
            except ValueError:
                continue
    return None


def transcript_lines(body: dict) -> list[tuple[int, str, str]]:
    """(id, speaker, text) of every ``[id] Speaker: text`` line of the first user message."""
    users = [m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "user"]
    if not users:
        return []
    return [(int(i), (sp or "").strip(), text.strip().strip('"')) for i, sp, text in LINE.findall(users[0])]


def answer(body: dict) -> str:
    schema = request_schema(body)
    lines = transcript_lines(body)
    if schema is None:
        first = lines[0][2] if lines else "nothing"
        return f"A plain answer about: {first}"
    gen = _Generator(schema, lines)
    return json.dumps(gen.value(schema, "root"))


class _Generator:
    def __init__(self, root: dict, lines: list[tuple[int, str, str]]):
        self.root = root
        self.lines = lines or [(0, "", "nothing was said")]
        self.n = 0

    def _resolve(self, node: dict) -> dict:
        while "$ref" in node:
            name = node["$ref"].split("/")[-1]
            node = self.root.get("$defs", {}).get(name, {})
        if "anyOf" in node:
            node = next((n for n in node["anyOf"] if n.get("type") != "null"), node["anyOf"][0])
            return self._resolve(node)
        return node

    def value(self, node: dict, name: str, segment: Optional[int] = None):
        node = self._resolve(node)
        if "enum" in node:
            self.n += 1
            return node["enum"][self.n % len(node["enum"])]
        kind = node.get("type")
        if kind == "object":
            props = node.get("properties", {})
            out: dict[str, Any] = {}
            seg = None
            if "segment" in props:
                idx = len(self.lines) and (self.n % len(self.lines))
                self.n += 1
                seg = self.lines[idx][0]
                out["segment"] = seg
            for key, sub in props.items():
                if key not in out:
                    out[key] = self.value(sub, key, seg)
            return {k: out[k] for k in props}
        if kind == "array":
            return [self.value(node.get("items", {}), name, segment) for _ in range(2)]
        if kind == "integer":
            return 0
        if kind == "number":
            return 0.0
        if kind == "boolean":
            return True
        # strings
        if segment is not None and name in ("text", "quote"):
            text = next((t for i, _, t in self.lines if i == segment), "")
            return " ".join(text.split()[:14])
        first = self.lines[0][2]
        if name == "title":
            return "Scripted: " + " ".join(first.split()[:4])
        return f"Scripted {name} of {len(self.lines)} lines, starting with: " + " ".join(first.split()[:8])


class SilentServer:
    """A server that accepts every connection and never sends a byte (``url``: its /v1 root);
    ``connections`` counts what it accepted."""

    def __enter__(self) -> "SilentServer":
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.held: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

        def accept() -> None:
            while True:
                try:
                    self.held.append(self.sock.accept()[0])
                except OSError:
                    return

        threading.Thread(target=accept, name="silent-server", daemon=True).start()
        return self

    @property
    def connections(self) -> int:
        return len(self.held)

    def __exit__(self, *exc) -> None:
        self.sock.close()
        for c in self.held:
            c.close()
