"""JSON Schema from the validation specs of hotline/web/validation.py (``Str``/``Bool``/``Int``), and small builders.

``parse`` treats a JSON ``null`` (and an empty optional string) as "not given", so every optional field also admits
``null``."""

from __future__ import annotations

from typing import Any

from hotline.web.validation import Bool, Int, Str

NO_CONTROL = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"
NO_CONTROL_NOT_BLANK = (
    "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*[^\\s\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f][^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"
)
PHONE = {
    "type": "string",
    "maxLength": 64,
    "pattern": "^1(3[0-9]|5[0-35-9]|7[0-8]|8[0-9])[0-9]{8}$",
    "description": "来电号码（此处以手机号描述；API 也接受带区号的固定电话、+86/0086 前缀与短号，见 docs/api.md）",
}


def field_schema(field: Str | Bool | Int) -> dict[str, Any]:
    """The JSON Schema of one validated field, with its zh-CN label as the description."""
    if isinstance(field, Str):
        out: dict[str, Any] = {"type": "string", "maxLength": field.max_len}
        if field.min_len:
            out["minLength"] = field.min_len
        if field.choices is not None:
            out["enum"] = list(field.choices)
        else:  # refused by Str.check: control characters and text that is only white space
            out["pattern"] = NO_CONTROL if not field.required else NO_CONTROL_NOT_BLANK
    elif isinstance(field, Bool):
        out = {"type": "boolean"}
    else:
        out = {"type": "integer", "minimum": field.min_value, "maximum": field.max_value}
    if not field.required:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    out["description"] = field.label
    return out


def body_schema(spec: dict[str, Str | Bool | Int], extra: dict[str, dict] | None = None) -> dict[str, Any]:
    """An object schema from a ``parse`` spec (unknown keys are ignored by the API, so they are allowed)."""
    properties = {name: field_schema(field) for name, field in spec.items()}
    properties.update(extra or {})
    required = [name for name, field in spec.items() if getattr(field, "required", False)]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


VERSION = {"type": ["integer", "null"], "description": "乐观锁：工单当前的 version（不符时 409 stale_version）"}


def query(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(**properties: dict) -> dict:
    return {"type": "object", "properties": properties}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
ANY_OBJECT = {"type": "object"}
