# 12345 hotline — developer commands. Needs only Python 3.11 on the machine.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := wsgi

.PHONY: run test test-integration bench bench-routing load lint install install-dev browser fonts clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt requirements-nodeps.txt
	$(PIP) install -q -r requirements-dev.txt
	$(PIP) install -q --no-deps -r requirements-nodeps.txt
	touch $@

## front-end libraries: npm ci from package-lock.json, copied into static/vendor/ (gitignored); tools/vendor.py
VENDOR := static/vendor/manifest.json
$(VENDOR): package-lock.json package.json tools/vendor.py | $(VENV)/.installed
	$(PY) tools/vendor.py

## test only: the local OpenID provider of tests/e2e/test_accounts_oidc.py (npm oidc-provider, its own lock)
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc/package-lock.json tests/oidc/package.json
	$(PY) -c "import subprocess, sys; sys.path.insert(0, 'tools'); from vendor import npm_command; \
	  sys.exit(subprocess.call(npm_command()[0] + ['ci', '--prefix', 'tests/oidc', '--no-audit', '--no-fund']))"

install: $(VENV)/.installed $(VENDOR)
install-dev: $(VENV)/.installed-dev $(VENDOR) $(OIDC_PROVIDER)

## make run: migrate, seed the demo city if empty, start web + worker + scheduler
run: install fonts
	$(PY) -m hotline.cli.devserver --host $(HOST) --port $(PORT)

## make test: install and run the whole suite (embedded SQLite + Redis unless DATABASE_URL/REDIS_URL)
test: install-dev browser
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest tests

## the integration suite against the local PostgreSQL and Redis servers (used by .ci/run)
test-integration: install-dev
	DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
	$(VENV)/bin/pytest tests/integration tests/e2e tests/faults

## the citizen-file tests again with the national algorithms (HOTLINE_CRYPTO=sm: SM4-GCM + HMAC-SM3; used by .ci/run)
SM_TESTS ?= tests/unit/test_sm_crypto.py tests/unit/test_phones.py tests/unit/test_open311_redaction.py \
	tests/unit/test_open311_feed.py tests/integration/test_citizen_file.py tests/integration/test_cti_citizens.py \
	tests/integration/test_wechat.py tests/integration/test_portal.py tests/integration/test_keys_check.py \
	tests/integration/test_sm_rotation.py tests/integration/test_ratings_flow.py tests/integration/test_backup_restore.py
.PHONY: test-sm
test-sm: install-dev
	HOTLINE_CRYPTO=sm $(VENV)/bin/pytest $(SM_TESTS)

## browser tests need Debian's chromium (+ a CJK font for screenshots); install when missing (root + apt only)
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . ; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "chromium install failed: browser tests will be skipped"; \
	  else echo "chromium missing: browser tests will be skipped"; fi; }

## the monthly report's PDF (WeasyPrint) needs pango and a CJK font; install when missing (root + apt only)
fonts:
	@{ fc-list :lang=zh 2>/dev/null | grep -q . && ldconfig -p 2>/dev/null | grep -q libpango-1.0 ; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei >/dev/null) \
	      || echo "font install failed: monthly reports keep their HTML, PDFs are skipped"; \
	  else echo "pango or a CJK font missing: monthly reports keep their HTML, PDFs are skipped"; fi; }

bench: install-dev
	$(PY) -m tests.bench.run $(BENCH_ARGS)

## the busiest hour on one node: PostgreSQL + a Redis server + gunicorn + Socket.IO + worker + scheduler,
## 2,000 sockets and the mix of tests/bench/peak_actions.py → bench/load.json + bench/load.md
load: install-dev
	$(PY) -m tests.bench.peak $(LOAD_ARGS)

## routing quality: 5-fold CV of the classifier on DIR/*.tsv (never committed: see ../shared/data/README.md)
DATA ?= ../shared/data/tipdm
bench-routing: install-dev
	$(PY) -m tests.bench.routing_bench --data $(DATA) --out bench/routing.json $(BENCH_ARGS)

lint: install-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) instance bench test-artifacts
	rm -rf node_modules static/vendor
