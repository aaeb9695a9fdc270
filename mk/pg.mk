# The PostgreSQL backend against a real server.
#
#   make check-pg        the store's unit tests against a throw-away
#                        cluster (tests/pg-cluster.sh: initdb and pg_ctl in a
#                        temporary folder, a Unix socket only, run as an
#                        unprivileged user), then the integration tests
#                        marked `pg` (tests/integration/test_pg.py, and
#                        test_pg_kill.py: several daemons, one kill -9ed
#                        about every second; about 40 s)
#   make check-pg-integration
#                        the integration tests `make check` runs, each
#                        with a fresh database of its own in one throw-away
#                        cluster (DEADLINED_TEST_PG); the tests that need
#                        SQLite by nature are marked sqlite_only and skipped
#   make pg-test-deps    the Debian packages only these tests need (as root)
#
# libpq-dev, which the build needs, comes with `make deps`.

PG_TEST_DEPS := postgresql-15 libpq-dev python3-psycopg2
PG_UNIT_TESTS := $(BUILD)/tests/test-store $(BUILD)/tests/test-store-outbox

.PHONY: check-pg check-pg-integration pg-test-deps

pg-test-deps:
	@$(call install-missing-debs,$(PG_TEST_DEPS))

check-pg: pg-test-deps $(PROGRAMS) $(PG_UNIT_TESTS)
	sh tests/pg-cluster.sh run sh -c 'set -e; for t in $(PG_UNIT_TESTS); do echo "== $$t (PostgreSQL)"; \
		TZ=Asia/Ho_Chi_Minh DEADLINED_TEST_DATA=$(CURDIR)/tests/data DEADLINED_SOURCE=$(CURDIR) $$t; done'
	DEADLINED_BUILD=$(abspath $(BUILD)) DEADLINED_SOURCE=$(CURDIR) DEADLINED_SANITIZE=$(SANITIZE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -m pg tests/integration $(PYTEST_ARGS)

check-pg-integration: pg-test-deps $(PROGRAMS) $(BUILD)/tests/test-mail
	sh tests/pg-cluster.sh run sh -c 'DEADLINED_TEST_PG=$$DEADLINED_TEST_DATABASE \
		DEADLINED_BUILD=$(abspath $(BUILD)) DEADLINED_SOURCE=$(CURDIR) DEADLINED_SANITIZE=$(SANITIZE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -rs -m "$(INTEGRATION_MARKS)" tests/integration $(PYTEST_ARGS)'
