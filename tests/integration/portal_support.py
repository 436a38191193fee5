"""Fill the citizen form like a person: read the page, solve the question, post with the CSRF token."""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九十"


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    return match.group(1) if match else ""


def solve(html: str) -> str:
    a, op, b = re.search(r"(\S) (加|减) (\S) 等于几", html).groups()
    x, y = DIGITS.index(a), DIGITS.index(b)
    return str(x + y if op == "加" else x - y)


def fill(client, phone: str, content: str, ip: str = "127.0.0.1", **fields) -> dict:
    """GET the form and return the POST data a person would send."""
    html = client.get("/portal/submit", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    data = {
        "csrf_token": hidden(html, "csrf_token"),
        "challenge": hidden(html, "challenge"),
        "answer": solve(html),
        "phone": phone,
        "name": "",
        "kind": "help",
        "content": content,
        "district": "",
        "address": "",
        "website": "",
    }
    data.update(fields)
    return data


def submit(client, data: dict, ip: str = "127.0.0.1", **kw):
    return client.post("/portal/submit", data=data, environ_base={"REMOTE_ADDR": ip}, **kw)


def csrf_of(client, path: str) -> str:
    return hidden(client.get(path).get_data(as_text=True), "csrf_token")
