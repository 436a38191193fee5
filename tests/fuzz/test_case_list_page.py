"""hypothesis against the staff's case list page (/cases) and the JSON case list: any query string, a page or an
error message, never a 5xx (issue 16: ``page=²``, ``page=10^20`` and ``q=%00`` were 500s)."""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.seed.city import DEMO_PASSWORD
from tests import counts
from tests.fuzz.test_doors import NASTY

EXAMPLES = int(os.environ.get("FUZZ_DOOR_EXAMPLES", "150"))
VALUE = st.one_of(NASTY, st.text(max_size=30), st.integers(-(10**30), 10**30).map(str))
QUERY = st.dictionaries(
    st.sampled_from(["page", "q", "status", "kind", "department", "due_before"]), VALUE, min_size=1, max_size=4
)


def _login(app, username: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.status_code
    return client


def test_fuzz_case_lists(fuzz_app, fuzz_tokens):
    pages = {name: _login(fuzz_app, name) for name in ("dispatcher1", "handler_zjj")}
    api = fuzz_app.test_client()
    inputs, failures = 0, []

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(query=QUERY, who=st.sampled_from(sorted(pages)))
    def run(query, who):
        nonlocal inputs
        args = {k: v.encode("utf-8", "surrogatepass") for k, v in query.items()}
        page = pages[who].get("/cases", query_string=args)
        listing = api.get("/api/v1/cases", query_string=args, headers={"Authorization": f"Bearer {fuzz_tokens[who]}"})
        inputs += 1
        for name, resp in (("page", page), ("api", listing)):
            if resp.status_code >= 500:
                failures.append(f"{name} as {who}: {resp.status_code} for {query!r}")

    run()
    counts.report(f"fuzz case lists: {inputs} inputs, 5xx = {len(failures)}")
    assert not failures, "\n".join(failures[:10])
