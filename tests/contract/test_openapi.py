"""GET /api/v1/openapi.json: generated from the url_map, covering every /api/v1 operation with its security,
parameters, bodies, answers, the error format and the case workflow's links; the reference page /api/docs."""

from __future__ import annotations

import re

import pytest

from hotline.apidoc.document import api_operations, registry_entry


def _staff(fuzz_tokens, username="agent1"):
    return {"Authorization": f"Bearer {fuzz_tokens[username]}"}


@pytest.fixture(scope="module")
def doc(fuzz_app, fuzz_tokens):
    resp = fuzz_app.test_client().get("/api/v1/openapi.json", headers=_staff(fuzz_tokens))
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def _operations(doc):
    return {
        (method.upper(), path): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    }


def test_is_openapi_31_and_valid(fuzz_app, doc):
    import schemathesis

    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": "/api/v1"}]
    schema = schemathesis.openapi.from_dict(doc)
    schema.validate()  # the OpenAPI 3.1 meta-schema
    assert len(list(schema.get_all_operations())) == len(_operations(doc))


def test_every_api_rule_of_the_url_map_is_documented(fuzz_app, doc):
    documented = _operations(doc)
    rules = api_operations(fuzz_app)
    assert len(rules) >= 70
    missing = [(m, p) for m, p, _ in rules if (m, p) not in documented]
    assert not missing, f"API rules missing from the document: {missing}"
    unregistered = [(m, p) for m, p, _ in rules if registry_entry(m, p) is None]
    assert not unregistered, f"add these to hotline/apidoc/registry*.py: {unregistered}"
    # and nothing documented that the app does not serve
    assert set(documented) == {(m, p) for m, p, _ in rules}


def test_security_follows_the_capability_of_each_view(fuzz_app, doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    ops = _operations(doc)
    for (method, path), op in ops.items():
        view = fuzz_app.view_functions[next(e for m, p, e in api_operations(fuzz_app) if (m, p) == (method, path))]
        if getattr(view, "_public", False):
            assert op["security"] == [], (method, path)
        else:
            assert op["security"] == [{"bearerToken": []}, {"sessionCookie": []}], (method, path)
            assert op["x-capability"] == view._capability
            assert "admin" in op["x-roles"]
    assert ops[("POST", "/cases/{number}/dispatch")]["x-roles"] == ["admin", "dispatcher"]
    assert {"/cti/events", "/sms/inbound", "/ratings"} <= {p for (_, p), o in ops.items() if not o["security"]}


def test_parameters_bodies_and_answers(doc):
    ops = _operations(doc)
    create = ops[("POST", "/cases")]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == {"channel", "kind", "content", "citizen_phone"}
    assert "phone" in body["properties"]["channel"]["enum"]
    assert body["properties"]["content"]["minLength"] == 2
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Case"}
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    listing = {p["name"]: p for p in ops[("GET", "/cases")]["parameters"]}
    assert listing["page"]["schema"]["minimum"] == 1 and listing["page"]["in"] == "query"
    reply = ops[("POST", "/cases/{number}/reply")]["requestBody"]["content"]["application/json"]["schema"]
    assert reply["properties"]["result"]["enum"] == ["resolved", "explained", "unresolved"]
    assert "version" in reply["properties"]
    case_item = doc["paths"]["/cases/{number}"]
    assert case_item["parameters"][0]["name"] == "number" and case_item["parameters"][0]["in"] == "path"
    rect = doc["paths"]["/rectifications/{rect_id}"]["parameters"][0]
    assert rect["schema"]["type"] == "integer"


def test_every_operation_documents_the_error_format(doc):
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    for key, op in _operations(doc).items():
        for status in ("400", "401", "403", "404", "503"):
            assert op["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, (key, status)


def test_links_walk_the_case_workflow(doc):
    ops = _operations(doc)
    ids = {op["operationId"] for op in ops.values()}
    assert len(ids) == len(ops)  # unique operationIds

    def targets(method, path, status="200"):
        links = ops[(method, path)]["responses"][status].get("links", {})
        for link in links.values():
            assert link["operationId"] in ids
            assert link["parameters"] == {"number": "$response.body#/number"}
        return {link["operationId"] for link in links.values()}

    assert {"get_case", "dispatch", "answer", "close"} <= targets("POST", "/cases", "201")
    assert {"sign", "return_case"} <= targets("POST", "/cases/{number}/dispatch")
    assert {"contact", "reply"} <= targets("POST", "/cases/{number}/sign")
    assert "close" in targets("POST", "/cases/{number}/reply")


def test_the_document_is_public_and_the_same_for_everyone(fuzz_app, fuzz_tokens):
    """API.md: GET /openapi.json is for anyone (an integrator reads it before having an account); it grants
    nothing — the operations it lists still answer 401 without a token."""
    client = fuzz_app.test_client()
    anonymous = client.get("/api/v1/openapi.json")
    assert anonymous.status_code == 200 and anonymous.get_json()["openapi"].startswith("3.1")
    assert client.get("/api/v1/openapi.json", headers=_staff(fuzz_tokens, "handler_zjj")).get_data() == (
        anonymous.get_data()
    )
    assert client.get("/api/docs").status_code == 200
    assert client.get("/api/v1/cases").status_code == 401


def test_reference_page_uses_own_static_files_and_no_inline_script(fuzz_app):
    from hotline.seed.city import DEMO_PASSWORD

    client = fuzz_app.test_client()
    login = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/login", data={"username": "agent1", "password": DEMO_PASSWORD, "csrf_token": csrf})
    resp = client.get("/api/docs")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    sources = re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert not re.search(r"<script\b(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r'(href|src)="(https?:)?//', html), "a CDN or another host"
    assert "/api/v1/openapi.json" in html
    for url in [*sources, *re.findall(r'<link\b[^>]*href="(/static/[^"]+)"', html)]:
        assert client.get(url).status_code == 200, url
