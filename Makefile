# Two commands, both idempotent:  `make lab` opens the course, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: setup lab test bench doctor clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert (3, 10) <= sys.version_info[:2] <= (3, 12), \
	  "sm-tutorial needs Python 3.10-3.12; run: make PYTHON=python3.12 ..."'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	if $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; \
	  then $(BIN)/python -m pip install --quiet -c constraints.txt -e . ; \
	  else echo "note: constraints.txt is resolved for Python 3.11; installing from pyproject ranges"; \
	       $(BIN)/python -m pip install --quiet -e . ; fi
	touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/sm-tutorial lab

test: setup
	$(BIN)/python -m pytest

bench: setup
	cd benchmarks && ../$(BIN)/python job_overhead.py && ../$(BIN)/python input_modes.py

doctor: setup
	$(BIN)/sm-tutorial doctor

clean:
	rm -rf $(VENV) workspace
