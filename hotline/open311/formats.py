"""Open311 GeoReport v2 answers in JSON or XML (the element names the specification uses), UTF-8 with the
charset in the Content-Type as the specification asks: ``application/json; charset=utf-8``,
``text/xml; charset=utf-8`` (and the XML declaration naming UTF-8)."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from flask import Response, request

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

# list element -> item element
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "attributes": "attribute",
    "formats": "format",
    "values": "value",
}


def requested_format(path: str | None = None) -> str:
    """The format the client asked for by the resource's extension: "xml" for ``….xml``, else "json"."""
    path = (request.path if path is None else path).rstrip("/").lower()
    return "xml" if path.endswith(".xml") else "json"


def _fill(parent: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            child = ET.SubElement(parent, key)
            _fill(child, item)
    elif isinstance(value, list):
        item_tag = ITEMS.get(parent.tag, "item")
        for item in value:
            _fill(ET.SubElement(parent, item_tag), item)
    elif value is None:
        return
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    else:
        parent.text = str(value)


def render(fmt: str, root: str, value, status: int = 200) -> Response:
    """``root`` is the XML document element ("services", "service_requests", "discovery", "errors" …)."""
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return Response(body, status=status, content_type=JSON_TYPE)
    element = ET.Element(root)
    _fill(element, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return Response(body, status=status, content_type=XML_TYPE)


def errors(fmt: str, status: int, description: str) -> Response:
    return render(fmt, "errors", [{"code": status, "description": description}], status)
