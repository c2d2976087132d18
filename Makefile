# Developer shortcuts; CI runs .ci/run, which uses the same commands.
.PHONY: test lint fmt check bench demo migration
test:
	python -m pytest -q
lint:
	python -m ruff check .
	python -m ruff format --check .
fmt:
	python -m ruff check --fix .
	python -m ruff format .
check: lint test
bench:
	python bench/extraction.py --corpus all
demo:
	newsmon demo
migration:  # usage: make migration MSG="add column x"
	python -c "from storage.migrate import upgrade_database, new_revision; import tempfile, os; d=tempfile.mkdtemp(); u=f'sqlite:///{d}/m.db'; upgrade_database(u); new_revision(u, os.environ['MSG'])"
