# Two commands on a fresh machine: `make run` (set up, then serve the chat over the sample
# reports) and `make test` (set up, then run the test suite). Everything installs into .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 7860

.PHONY: setup run test lint eval-sample browser clean

# pip runs with -qq: its errors show (and stop make), its warnings do not (on a machine whose
# pip configuration names missing package folders, they were ~180 lines of "is ignored")
$(VENV)/.installed: pyproject.toml
	@echo "setting up $(VENV) (the first time: a few minutes)"
	@python3 -m venv $(VENV)
	@$(PY) -m pip install -qq --upgrade pip
	@echo "installing PyTorch (the CPU build, first, so nothing pulls CUDA packages)"
	@$(PY) -m pip install -qq torch==2.13.0
	@echo "installing reportqa and its dependencies"
	@# the folder-mapped layout (qa.index in index/, ...) is installed through setuptools' meta
	@# path finder, which says so in a 9-line notice on every install: known, so not shown
	@PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install -qq -e '.[dev,milvus]'
	@touch $@

setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/qa serve --port $(PORT)

# Debian's chromium, for the browser tests of the chat
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

test: setup browser
	$(VENV)/bin/pytest -q; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: setup
	$(VENV)/bin/ruff check qa index ui eval tests
	$(VENV)/bin/ruff format --check qa index ui eval tests
	# mypy reads an installed copy: the qa.index/qa.ui/qa.eval folders are mapped by pyproject
	rm -rf build/typecheck build/lib
	$(PY) -m pip install -q --no-deps --target build/typecheck .
	$(VENV)/bin/mypy build/typecheck/qa

# the sample question set must stay at or above this accuracy (measured: 0.948, with the reader)
eval-sample: setup
	$(VENV)/bin/qa eval eval/data/sample_questions.jsonl --corpus qa/corpus --min-accuracy 0.90

clean:
	rm -rf $(VENV) build *.egg-info
