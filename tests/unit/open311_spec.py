"""A checker of GeoReport v2 answers derived from the specification (http://wiki.open311.org/GeoReport_v2), used
by tests/unit/test_open311_conformance.py (Flask's test client) and tests/e2e/test_open311_georeport.py (real
HTTP). It talks through a ``fetch(method, path, data=None) -> Answer`` so both can share it.

What the specification asks, point by point: UTF-8 with ``Content-Type: application/json; charset=utf-8`` or
``text/xml; charset=utf-8`` and an XML declaration naming UTF-8; the element names of each resource (services >
service, service_definition, service_requests > request, errors > error); the fields of a service, of a definition
and of a request; ``metadata`` true exactly when the definition has attributes; W3C date-times with a time zone;
errors as a list of {code, description} with 404 for a resource that does not exist (a service, a request, a
token, a jurisdiction), 403 for a missing or wrong api_key and 400 for anything else."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET  # the server's own answers

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
W3C = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")
SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: dict = field(default_factory=dict)


class SpecError(AssertionError):
    pass


def xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 — the server's own answer


def _xml_value(element: ET.Element):
    children = list(element)
    if not children:
        return element.text
    if (len({c.tag for c in children}) == 1 and len(children) > 1) or element.tag in LISTS:
        return [_xml_value(c) for c in children]
    return {c.tag: _xml_value(c) for c in children}


LISTS = {"services", "service_requests", "errors", "attributes", "values", "endpoints", "formats"}


class Checker:
    """``check_*`` methods raise SpecError naming the rule; ``checks`` counts the rules verified."""

    def __init__(self, fetch):
        self.fetch = fetch
        self.checks = 0

    def _ok(self, condition: bool, rule: str) -> None:
        self.checks += 1
        if not condition:
            raise SpecError(rule)

    def parsed(self, answer: Answer, fmt: str, root: str):
        """The body as data (XML mapped like the Spark convention: lists for list elements)."""
        self._ok(answer.content_type == CONTENT_TYPES[fmt], f"Content-Type {answer.content_type!r} for {fmt}")
        if fmt == "json":
            return json.loads(answer.body.decode("utf-8"))
        self._ok(answer.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), "XML declaration with UTF-8")
        element = xml(answer.body)
        self._ok(element.tag == root, f"XML root {element.tag!r}, expected {root!r}")
        return _xml_value(element)

    def get(self, path: str, fmt: str, root: str, status: int = 200):
        answer = self.fetch("GET", f"{path}.{fmt}")
        self._ok(
            answer.status == status, f"GET {path}.{fmt}: {answer.status}, expected {status}: {answer.body[:200]!r}"
        )
        return self.parsed(answer, fmt, root)

    def error(self, answer: Answer, fmt: str, status: int, what: str) -> None:
        """An error answer: the HTTP status, and a list of {code, description} in the requested format."""
        self._ok(answer.status == status, f"{what}: HTTP {answer.status}, expected {status}: {answer.body[:200]!r}")
        errors = self.parsed(answer, fmt, "errors")
        self._ok(isinstance(errors, list) and len(errors) >= 1, f"{what}: errors is a non-empty list")
        for error in errors:
            self._ok(set(error) == {"code", "description"}, f"{what}: an error has code and description")
            self._ok(int(error["code"]) == status, f"{what}: error code {error['code']} matches HTTP {status}")
            self._ok(bool(error["description"]), f"{what}: the description is not empty")

    def check_services(self, fmt: str, limit: int | None = None) -> list[dict]:
        services = self.get("/services", fmt, "services")
        self._ok(isinstance(services, list) and services, "services is a non-empty list")
        codes = [s["service_code"] for s in services]
        self._ok(len(set(codes)) == len(codes), "service codes are unique")
        for service in services:
            self._ok(set(SERVICE_FIELDS) <= set(service), f"service fields: {sorted(service)}")
            self._ok(str(service["metadata"]).lower() in ("true", "false"), "metadata is true or false")
            self._ok(service["type"] in ("realtime", "batch", "blackbox"), "type is realtime, batch or blackbox")
        for service in services[:limit]:
            code = service["service_code"]
            definition = self.get(f"/services/{code}", fmt, "service_definition")
            self._ok(str(definition["service_code"]) == str(code), "definition: the service_code asked for")
            attributes = definition.get("attributes") or []
            has_metadata = str(service["metadata"]).lower() == "true"
            self._ok(has_metadata == bool(attributes), f"service {code}: metadata {has_metadata} but {attributes}")
        return services

    def check_request(self, request: dict) -> None:
        self._ok(set(REQUEST_FIELDS) <= set(request), f"request fields: {sorted(request)}")
        self._ok(request["status"] in ("open", "closed"), "status is open or closed")
        for name in ("requested_datetime", "updated_datetime"):
            self._ok(bool(W3C.fullmatch(request[name] or "")), f"{name} {request[name]!r} is W3C with a zone")
        if request["expected_datetime"]:
            self._ok(bool(W3C.fullmatch(request["expected_datetime"])), "expected_datetime is W3C")

    def check_requests(self, fmt: str, number: str | None = None) -> list[dict]:
        requests = self.get("/requests", fmt, "service_requests") or []
        self._ok(isinstance(requests, list), "service_requests is a list")
        for request in requests:
            self.check_request(request)
        if number:
            one = self.get(f"/requests/{number}", fmt, "service_requests")
            self._ok(isinstance(one, list) and len(one) == 1, "GET a request answers a one-element list")
            self.check_request(one[0])
            self._ok(one[0]["service_request_id"] == number, "the request asked for")
        return requests

    def check_errors(self, fmt: str, service_code: str, api_key: str) -> None:
        """Every error the specification names, in ``fmt``."""
        f = self.fetch
        self.error(f("GET", f"/services/0{service_code}.{fmt}"), fmt, 404, "unknown service definition")
        self.error(f("GET", f"/requests/GD19990101-999999.{fmt}"), fmt, 404, "unknown request")
        self.error(f("GET", f"/tokens/no-such-token.{fmt}"), fmt, 404, "unknown token")
        self.error(f("GET", f"/services.{fmt}?jurisdiction_id=elsewhere.example"), fmt, 404, "unknown jurisdiction")
        self.error(f("GET", f"/requests.{fmt}?start_date=yesterday"), fmt, 400, "a date that is not W3C")
        self.error(f("GET", f"/requests.{fmt}?service_request_id=%00"), fmt, 400, "a NUL in a parameter")
        base = {"service_code": service_code, "address_string": "人民路", "description": "路灯不亮"}
        self.error(f("POST", f"/requests.{fmt}", base), fmt, 403, "POST without api_key")
        self.error(f("POST", f"/requests.{fmt}", {**base, "api_key": "wrong"}), fmt, 403, "POST with a wrong api_key")
        keyed = {**base, "api_key": api_key}
        self.error(f("POST", f"/requests.{fmt}", {**keyed, "service_code": ""}), fmt, 400, "POST without service_code")
        self.error(
            f("POST", f"/requests.{fmt}", {**keyed, "service_code": "0"}), fmt, 404, "POST, unknown service_code"
        )
        self.error(f("POST", f"/requests.{fmt}", {**keyed, "address_string": ""}), fmt, 400, "POST without a location")
        self.error(f("GET", f"/no-such-resource.{fmt}"), fmt, 404, "an unknown path")
        self.error(f("GET", f"/services/{service_code}/extra.{fmt}"), fmt, 404, "an unknown sub-path")
        wrong = f("DELETE", f"/requests.{fmt}")
        self.error(wrong, fmt, 405, "a method the resource does not have")
        self._ok("GET" in wrong.headers.get("Allow", ""), "405 names the allowed methods")
