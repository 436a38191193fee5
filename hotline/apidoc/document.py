"""Build the OpenAPI 3.1 document from the running app: every /api/v1 rule of the url_map and its methods, the
capability its view declares (``@requires``) or ``@public``, the registry's bodies, parameters, answers and links.

apispec assembles it (components, paths, the 3.1 header); the document is built once per app and cached."""

from __future__ import annotations

import importlib
import re
from typing import Any

from apispec import APISpec
from flask import Flask

from hotline.apidoc import (
    components,
    registry_accounts,
    registry_admin,
    registry_connected,
    registry_desks,
    registry_evidence,
    registry_insight,
    registry_routing,
)
from hotline.apidoc.fields import PHONE, VERSION, body_schema
from hotline.apidoc.registry import CASE_LINKS, LINK_BODIES, REGISTRY, Op, _case_create_body
from hotline.apidoc.registry_more import MORE
from hotline.auth.permissions import CAPABILITIES

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
_ARG = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
PATH_PARAMS = {
    "int": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "default": {"type": "string", "minLength": 1, "maxLength": 64},
}
BODY_METHODS = {"POST", "PUT", "PATCH"}


def openapi_path(rule: str) -> str:
    """``/api/v1/cases/<number>`` → ``/cases/{number}``; ``<int:rect_id>`` → ``{rect_id}``."""
    return _ARG.sub(lambda m: "{" + m.group("name") + "}", rule[len(PREFIX) :])


def api_operations(app: Flask) -> list[tuple[str, str, str]]:
    """(METHOD, OpenAPI path, endpoint) of every /api/v1 rule in the url_map."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            out += [(m, openapi_path(rule.rule), rule.endpoint) for m in sorted(rule.methods - IGNORED_METHODS)]
    return sorted(out, key=lambda row: (row[1], row[0]))


_TOPICS = (registry_accounts, registry_admin, registry_connected, registry_desks, registry_evidence)
_TOPICS += (registry_insight, registry_routing)


def registry_entry(method: str, path: str) -> Op | None:
    key = (method, path)
    return REGISTRY.get(key) or MORE.get(key) or next((m.ENTRIES[key] for m in _TOPICS if key in m.ENTRIES), None)


def operation_id(endpoint: str, method: str, methods_of_endpoint: int) -> str:
    name = endpoint.rpartition(".")[2]
    return name if methods_of_endpoint == 1 else f"{name}_{method.lower()}"


def _path_parameters(app: Flask, endpoint: str, path: str) -> list[dict]:
    rule = next(r for r in app.url_map.iter_rules(endpoint))
    converters = {m.group("name"): m.group("conv") or "default" for m in _ARG.finditer(rule.rule)}
    return [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS.get(conv, PATH_PARAMS["default"])}
        for name, conv in converters.items()
        if "{" + name + "}" in path
    ]


def _request_body(op: Op, method: str, path: str) -> dict | None:
    if method not in BODY_METHODS:
        return None
    body = op.body
    if method == "POST" and path == "/cases":
        body = _case_create_body()
    elif isinstance(body, str):  # "module.NAME" (of hotline/api) or "package.module:NAME": a spec a view exposes
        module, _, name = body.rpartition(":") if ":" in body else (f"hotline.api.{body.partition('.')[0]}", "", "")
        name = name or body.partition(".")[2]
        body = getattr(importlib.import_module(module), name)
    if body is None:
        body = {}
    schema = body if isinstance(body.get("type"), str) else body_schema(body)
    if "citizen_phone" in schema.get("properties", {}):
        schema["properties"]["citizen_phone"] = PHONE
    if op.versioned:
        schema = {**schema, "properties": {**schema.get("properties", {}), "version": VERSION}}
    if schema.get("x-multipart"):  # file uploads (registry_evidence.py)
        schema = {k: v for k, v in schema.items() if k != "x-multipart"}
        return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    return {"required": bool(schema.get("required")), "content": {"application/json": {"schema": schema}}}


def _links(op: Op, ids: set[str]) -> dict:
    links = {}
    for target in op.links:
        if target in ids:
            link = {"operationId": target, "parameters": {"number": "$response.body#/number"}}
            if target in LINK_BODIES:
                link["requestBody"] = LINK_BODIES[target]
            links[CASE_LINKS[target]] = link
    return links


def _operation(app: Flask, method: str, path: str, endpoint: str, op_id: str, ids: set[str]) -> dict[str, Any]:
    view = app.view_functions[endpoint]
    capability = getattr(view, "_capability", None)
    public = getattr(view, "_public", False)
    op = registry_entry(method, path) or Op(endpoint, "undocumented")
    success: dict[str, Any] = {"description": "成功", "content": {"application/json": {"schema": op.response}}}
    if links := _links(op, ids):
        success["links"] = links
    out: dict[str, Any] = {
        "operationId": op_id,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": [*op.params, *op.headers],
        "responses": {op.status: success, **components.error_responses()},
        "security": [] if public else components.STAFF_SECURITY,
    }
    if capability:
        out["x-capability"] = capability
        out["x-roles"] = sorted(role.value for role, caps in CAPABILITIES.items() if capability in caps)
    if op.versioned:
        out["parameters"].append(
            {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string", "pattern": "^[0-9]+$"}}
        )
    if body := _request_body(op, method, path):
        out["requestBody"] = body
    if registry_entry(method, path) is None:
        out["x-undocumented"] = True
    return out


def build(app: Flask) -> dict[str, Any]:
    """The whole document (call inside an app context: the case body reads the app's settings)."""
    spec = APISpec(
        title="12345 政务服务便民热线 REST API",
        version="v1",
        openapi_version="3.1.0",
        info={"description": "JSON 进、JSON 出；错误格式 {error: {code, message, fields}}（docs/api.md）"},
        servers=[{"url": PREFIX}],
    )
    for name, schema in components.SCHEMAS.items():
        spec.components.schema(name, schema)
    for name, scheme in components.SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    operations = api_operations(app)
    per_endpoint: dict[str, int] = {}
    for _, _, endpoint in operations:
        per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
    ids = {operation_id(e, m, per_endpoint[e]) for m, _, e in operations}
    by_path: dict[str, dict] = {}
    for method, path, endpoint in operations:
        op_id = operation_id(endpoint, method, per_endpoint[endpoint])
        entry = by_path.setdefault(path, {"operations": {}, "parameters": _path_parameters(app, endpoint, path)})
        entry["operations"][method.lower()] = _operation(app, method, path, endpoint, op_id, ids)
    for path, entry in by_path.items():
        spec.path(path=path, operations=entry["operations"], parameters=entry["parameters"])
    return spec.to_dict()


def document(app: Flask) -> dict[str, Any]:
    """The cached document of ``app``."""
    cached = app.extensions.get("hotline_openapi")
    if cached is None:
        cached = app.extensions["hotline_openapi"] = build(app)
    return cached
