# Two commands, both idempotent:  `make lab` opens the course, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: setup lab lab-ko test bench doctor clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) sm_tutorial/python_support.py  # Python 3.10-3.13, or it says why not and what to run
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	$(BIN)/python -m pip install --quiet --upgrade --no-deps -c constraints.txt --target $(VENV)/keras2 tf-keras  # Keras 2, for jobs asking TensorFlow < 2.16
	touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/sm-tutorial lab

lab-ko: setup  # 한국어판: the Korean edition, in its own copies
	$(BIN)/sm-tutorial lab --lang ko

test: setup
	$(BIN)/python -m pytest

bench: setup
	cd benchmarks && ../$(BIN)/python job_overhead.py && ../$(BIN)/python input_modes.py

doctor: setup
	$(BIN)/sm-tutorial doctor

clean:
	rm -rf $(VENV) workspace
