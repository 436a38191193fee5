"""Open311 GeoReport v2 answers in JSON or XML (the element names the specification uses)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from flask import Response, jsonify

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
        response = jsonify(value)
        response.status_code = status
        return response
    element = ET.Element(root)
    _fill(element, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return Response(body, status=status, mimetype="text/xml")


def errors(fmt: str, status: int, description: str) -> Response:
    return render(fmt, "errors", [{"code": status, "description": description}], status)
