"""schemathesis against /api/v1/openapi.json on the WSGI app: every operation with schema-conforming and
non-conforming inputs (stateless), then the case workflow following the document's links (stateful). Each request
is made as a user whose role holds the operation's capability (an agent, dispatcher, supervisor, monitor or the
admin for admin-only ones) and, where a department user holds it too, as 住建局's handler. No answer may be a 5xx.

Example counts are bounded (``FUZZ_EXAMPLES``, default 12 per operation and mode) so the run takes a few minutes.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import counts

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
STATEFUL_STEPS = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "25"))
CENTRE = ("agent1", "dispatcher1", "supervisor1", "monitor1", "admin")
DEPARTMENT = "handler_zjj"
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)


@pytest.fixture(scope="module")
def schema(fuzz_app, fuzz_tokens):
    import schemathesis

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app, headers=_headers(fuzz_tokens, "agent1"))


def principals(op_definition: dict) -> list[str | None]:
    """Who calls an operation: nobody for a public one; else the first centre user whose role holds it, and the
    department handler when a department role holds it too."""
    roles = op_definition.get("x-roles")
    if not roles:
        return [None]
    from hotline.seed.city import USERS

    role_of = {u["username"]: u["role"] for u in USERS}
    who = [next(u for u in CENTRE if role_of[u] in roles)]
    if role_of[DEPARTMENT] in roles:
        who.append(DEPARTMENT)
    return who


def _headers(tokens, username):
    return {"Authorization": f"Bearer {tokens[username]}"} if username else {}


def test_stateless_every_operation_no_5xx(schema, fuzz_tokens):
    from schemathesis import GenerationMode

    operations = [result.ok() for result in schema.get_all_operations()]
    tried, failures = 0, []
    for operation in operations:
        who = principals(operation.definition.raw)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode), username=st.sampled_from(who))
            def run(case, username):
                nonlocal tried
                tried += 1
                response = case.call(headers=_headers(fuzz_tokens, username))
                if response.status_code >= 500:
                    label = case.operation.label
                    failures.append(f"{label} as {username}: {response.status_code}\n{case.as_curl_command()}")

            run()
    counts.report(
        f"schemathesis: {len(operations)} operations x {tried // len(operations)} examples, 5xx = {len(failures)}"
    )
    assert not failures, "\n\n".join(failures[:10])


def stateful_principal(op_definition: dict) -> str | None:
    """In the workflow a department's step (sign, contact, reply, return…) is taken by 住建局's handler, the unit the
    links dispatch to; every other step by the first centre user who may."""
    who = principals(op_definition)
    return DEPARTMENT if DEPARTMENT in who else who[0]


def test_stateful_case_workflow_no_5xx(schema, fuzz_tokens, monkeypatch):
    from hypothesis.stateful import run_state_machine_as_test
    from schemathesis.specs.openapi import stateful

    # Every scenario starts by registering a case and then follows the links. (schemathesis would rather start with
    # any POST, with a random case number — a 404 — and it infers that ``citizen_name`` refers to a "Citizen"
    # resource that nothing produces, so it never starts with POST /cases.) Random numbers: the stateless test.
    monkeypatch.setattr(
        stateful, "is_likely_root_transition", lambda operation, *args: operation.label == "POST /cases"
    )
    tally = {"calls": 0, "statuses": {}, "failures": [], "ops": set(), "refusals": []}

    from schemathesis import GenerationMode

    workflow = schema.include(path_regex="^/cases")  # the case and its actions: where the links lead
    workflow.config.generation.update(modes=[GenerationMode.POSITIVE])  # bad inputs: the stateless test's job

    class Workflow(workflow.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": _headers(fuzz_tokens, stateful_principal(case.operation.definition.raw))}

        def after_call(self, response, case):
            tally["calls"] += 1
            tally["ops"].add(case.operation.label)
            key = f"{case.operation.label} {response.status_code}"
            tally["statuses"][key] = tally["statuses"].get(key, 0) + 1
            if response.status_code >= 500:
                tally["failures"].append(f"{key}\n{case.as_curl_command()}")
            elif response.status_code >= 400 and len(tally["refusals"]) < 40:
                tally["refusals"].append((key, (response.text or "")[:200], str(case.body)[:300]))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            pass  # only 5xx counts here (after_call); conformance of answers is tests/contract/test_openapi.py's

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=STATEFUL_STEPS,
            stateful_step_count=8,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    ok = {k: v for k, v in tally["statuses"].items() if k.startswith("POST /cases/{number}/") and k.endswith(" 200")}
    counts.report(
        f"schemathesis stateful: {STATEFUL_STEPS} scenarios, {tally['calls']} calls over {len(tally['ops'])} "
        f"operations, {sum(ok.values())} successful case actions, 5xx = {len(tally['failures'])}"
    )
    assert not tally["failures"], "\n\n".join(tally["failures"][:10])
    assert tally["statuses"].get("POST /cases 201", 0) > 0, [
        r for r in tally["refusals"] if r[0].startswith("POST /cases ")
    ]
    assert sum(ok.values()) > 0, tally["refusals"]  # the links carried real case numbers into the actions
