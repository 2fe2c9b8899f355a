"""Structured answers: the strict JSON Schema of a pydantic model, per-call bounds for a local
server's grammar (:func:`narrow_schema`), the JSON instructions and repair prompt, and reading a
model's answer leniently (:func:`extract_json`, :func:`fit_to_schema`). No podtools imports."""

from __future__ import annotations

import json
import re
from typing import Any, Optional, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)
Validator = Any  # callable(BaseModel) -> list[str] of problems, for checks a schema cannot express


# -- JSON schema and parsing --------------------------------------------------------------------


def _strict_schema(model: type[BaseModel]) -> dict:
    """The model's JSON Schema in the form OpenAI's strict mode accepts (no titles/defaults)."""
    schema = model.model_json_schema()

    def clean(node):
        if isinstance(node, dict):
            node.pop("title", None)
            node.pop("default", None)
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            for k, v in node.items():
                if k in ("properties", "$defs"):  # maps of names: a property may be called "title"
                    for sub in v.values():
                        clean(sub)
                else:
                    clean(v)
        elif isinstance(node, list):
            for v in node:
                clean(v)

    clean(schema)
    return schema


def narrow_schema(schema: dict, bounds: dict[str, dict[str, Any]]) -> dict:
    """A copy of ``schema`` with JSON Schema keywords added at dotted paths: ``"title"`` is the
    root's property, ``"key_points"`` the list, ``"key_points[].text"`` a property of its items.
    A ``$ref`` on the way is inlined, so a bound on one list's items does not reach another list
    that shares the definition."""
    import copy

    out = copy.deepcopy(schema)
    defs = out.get("$defs", {})

    def inline(parent: dict, key: str) -> dict:
        node = parent[key]
        ref = node.get("$ref", "") if isinstance(node, dict) else ""
        if ref.startswith("#/$defs/"):
            node = parent[key] = copy.deepcopy(defs[ref.rsplit("/", 1)[1]])
        return node

    for path, extra in bounds.items():
        node = out
        for part in path.split("."):
            many = part.endswith("[]")
            name = part[:-2] if many else part
            if name not in node.get("properties", {}):
                raise ValueError(f"no property {name!r} on the way to {path!r}")
            node = inline(node["properties"], name)
            if many:
                node = inline(node, "items")
        node.update(extra)
    return out


def _with_json_instructions(messages: list[dict[str, str]], schema: dict) -> list[dict[str, str]]:
    instructions = ("Answer with one JSON object and nothing else (no prose, no code fences) that "
                    "validates against this JSON Schema:\n" + json.dumps(schema, separators=(",", ":")))
    out = [dict(m) for m in messages]
    for m in out:
        if m["role"] == "system":
            m["content"] = f"{m['content']}\n\n{instructions}"
            return out
    return [{"role": "system", "content": instructions}, *out]


def _repair_prompt(problems: list[str], schema: dict) -> str:
    listed = "\n".join(f"- {p}" for p in problems[:8])
    return ("Your answer cannot be used:\n" + listed + "\nReply again with the complete corrected JSON object "
            "only (be more concise if it was cut off), valid against this JSON Schema:\n"
            + json.dumps(schema, separators=(",", ":")))


_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(.*?)\n?```\s*$", re.S)


def extract_json(text: str) -> Any:
    """The JSON value in a model's answer: bare, in a code fence, or the outermost {...}. A raw
    line break or tab inside a string is read as written (llama-cpp-python's grammar lets a
    model write them, strict JSON does not)."""
    t = text.strip()
    m = _FENCE.match(t)
    if m:
        t = m.group(1).strip()
    try:
        return json.loads(t, strict=False)
    except ValueError:
        pass
    start, end = t.find("{"), t.rfind("}")
    if start != -1 and end > start:
        return json.loads(t[start : end + 1], strict=False)
    raise ValueError("no JSON object in the answer")


def fit_to_schema(raw: Any, schema: Any) -> Any:
    """A small model's near miss of ``schema`` made to fit, before validation: keys in another case
    or spelling ("Summary", "key points", "keyPoints"), an object with one text where a string is
    asked, strings where a list of one string is asked, a segment cited as "[12]", keys the schema
    does not have (dropped once every required field is there). Nothing is invented: a missing
    field stays missing, and the answer is then repaired or refused as before."""
    origin, args = get_origin(schema), get_args(schema)
    if origin is list and args:
        if not isinstance(raw, list):
            if not (isinstance(raw, (dict, str)) and raw):
                return raw
            raw = [raw]  # one item where a list is asked
        return [fit_to_schema(x, args[0]) for x in raw]
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        if not isinstance(raw, dict):
            return raw
        fields = schema.model_fields
        by_key = {_loose_key(k): k for k in fields}
        out: dict[str, Any] = {}
        for k, v in raw.items():
            name = k if k in fields else by_key.get(_loose_key(k), k)
            if name != k and name in raw:
                continue  # "Summary" and "summary": the exact key wins
            out[name] = fit_to_schema(v, fields[name].annotation) if name in fields else v
        required = [k for k, f in fields.items() if f.is_required()]
        if all(k in out for k in required):
            out = {k: v for k, v in out.items() if k in fields}
        return out
    if schema is str:
        if isinstance(raw, dict):
            texts = [v for v in raw.values() if isinstance(v, str)]
            return texts[0] if len(texts) == 1 else raw
        if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
            return " ".join(x.strip() for x in raw)
    if schema is int and isinstance(raw, str) and re.fullmatch(r"\s*\[?\s*\d+\s*\]?\s*", raw):
        return int(raw.strip().strip("[]").strip())
    return raw


def _loose_key(key: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def _parse(text: str, schema: type[T], check: Validator | None) -> tuple[Optional[T], list[str]]:
    try:
        raw = extract_json(text)
    except ValueError as exc:
        tail = " (the answer looks cut off)" if text.strip().startswith("{") else ""
        return None, [f"not valid JSON: {exc}{tail}"]
    raw = fit_to_schema(raw, schema)
    try:
        obj = schema.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors()[:8]:
            where = ".".join(str(p) for p in e["loc"]) or "(top level)"
            problems.append(f"{where}: {e['msg']}")
        return None, problems
    if check is not None:
        problems = list(check(obj))
        if problems:
            return None, problems
    return obj, []

