"""tools/vuln_audit.py: a known vulnerability fails CI; a source that could not be asked is said plainly."""

from __future__ import annotations

from tools.vuln_audit import summarise, verdict

VULNERABLE = {
    "dependencies": [
        {"name": "jinja2", "version": "2.10", "vulns": [{"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"]}]},
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "psutil", "version": "7.2.2", "skip_reason": "Dependency not found on PyPI"},
    ]
}


def test_a_known_vulnerability_fails():
    audited, skipped, vulns = summarise(VULNERABLE)
    assert (audited, skipped) == (2, 1)
    code, lines = verdict(audited, skipped, vulns, required=False)
    assert code == 1
    assert "jinja2 2.10: PYSEC-2019-217 (fixed in 2.10.1)" in lines[1]


def test_clean_when_audited():
    report = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}]}
    assert verdict(*summarise(report), required=True) == (0, ["pip-audit: 1 packages audited, 0 known vulnerabilities"])


def test_nothing_audited_is_not_reported_as_clean():
    report = {"dependencies": [{"name": n, "version": "1", "skip_reason": "not found"} for n in ("a", "b")]}
    code, lines = verdict(*summarise(report), required=False)
    assert code == 0 and lines[0].startswith("pip-audit: NOT AUDITED") and "2 of 2" in lines[0]
    assert verdict(*summarise(report), required=True)[0] == 2
