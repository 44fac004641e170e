# The only entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# No call leaves the machine.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
RASA := $(BIN)/rasa
MODEL := models/cops.tar.gz
WIDGET := web/node_modules/rasa-webchat/lib/index.js
# The questions of content/answers.yml as Rasa reads them (content/build.py): build output, never edited.
GENERATED := domain/answers.generated.yml data/answers.generated.yml data/nlu/resource_topic.generated.yml
CONTENT := $(wildcard content/*.yml content/*.py) $(filter-out %.generated.yml,$(wildcard data/nlu/*.yml data/nlu/es/*.yml))
TRAINING_INPUTS := config.yml $(GENERATED) $(CONTENT) $(wildcard domain/*.yml data/*.yml data/nlu/*.yml data/nlu/es/*.yml components/*.py components/*.yml)
REQUIREMENTS := requirements.txt requirements-dev.txt actions/requirements.txt constraints.txt
MIN_HOLDOUT_F1 := 0.90

.PHONY: help install train run shell nlu story test test-unit lint test-data test-stories test-nlu test-python \
	clean cluster cluster-down

# The fast tier: no server of the project's, no model (make test-unit, under a minute).
UNIT_TESTS := tests/test_actions.py tests/test_components.py tests/test_contact_data.py tests/test_training_data.py \
	tests/test_content_change.py tests/test_check_links.py tests/test_channels.py tests/test_rasa_patches.py \
	tests/test_settings.py tests/test_layers.py tests/test_supervisor.py tests/test_spanish.py tests/test_privacy.py \
	tests/test_dashboard_figures.py

help:
	@echo "Visitors and staff:"
	@echo "  make run          start the assistant: action server (127.0.0.1:5055), Rasa (:5005), the web page"
	@echo "  make shell        talk to the assistant in the terminal (staff); in Spanish: make shell CHAT_LANGUAGE=es"
	@echo "  make nlu          see what the NLU understands of each message"
	@echo "  make story ID=<conversation id>   print a conversation as a test story"
	@echo "  make report [ARGS=\"--since 7d --csv FILE --nlu FILE\"]   what visitors asked that went unanswered"
	@echo "  make dashboard [ARGS=\"--since 7d\"] [OPEN=1]   one page of figures from the conversations (var/dashboard.html)"
	@echo "  make purge [DRY_RUN=1] [ARGS=\"--days N\"]   delete conversations idle longer than privacy/settings.yml says"
	@echo "  make check-links  check every link in content/contact_data.yml"
	@echo "  make score SET=tests/blind/dev.yml   ask a question set of the running assistant (make run) and score it"
	@echo "Building:"
	@echo "  make install      create .venv, install the pinned requirements and the web widget"
	@echo "  make train        check content/, write it for Rasa, train the model if anything changed"
	@echo "  make clean        remove the trained models, test reports and the generated domain and rules"
	@echo "Testing:"
	@echo "  make test         lint, the fast tier, then data, stories, held-out F1, blind sets, end to end"
	@echo "  make test-unit    the fast tier: actions, content, components, request parsing (no server, no model)"
	@echo "  make lint         ruff check and ruff format --check"
	@echo "  make test-data / test-stories / test-nlu / test-python   one step of make test"
	@echo "  make bench        measure this configuration against Rasa's default one (bench/results.md)"
	@echo "                    (BENCH=--keep-baseline: this project only, the baseline's figures kept)"
	@echo "Scaling out:"
	@echo "  make cluster      two Rasa and two action servers behind nginx, PostgreSQL, Redis (var/cluster)"
	@echo "  make cluster-down stop everything make cluster started"

# A second run with nothing to do only compares timestamps.
$(BIN)/.installed: $(REQUIREMENTS)
	@test -x $(PYTHON) || "$$(scripts/find-python3.10)" -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check \
		-c constraints.txt -r requirements.txt -r requirements-dev.txt
	@touch $@

install: $(BIN)/.installed $(WIDGET)

# The chat widget, exactly as web/package-lock.json pins it; its install scripts are not needed.
$(WIDGET): web/package.json web/package-lock.json
	cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# Browser tests drive Debian's Chromium (never a downloaded browser).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The restart test runs a throw-away cluster of Debian's PostgreSQL server (pg_ctlcluster comes
# with it); it never touches the package's own cluster.
/usr/bin/pg_ctlcluster:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql

# The cluster (make cluster, tests/test_cluster.py) runs private instances of Debian's nginx and
# Redis under var/cluster/, never the packages' own services.
/usr/sbin/nginx:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx

/usr/bin/redis-server:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server

# Checks the content (a broken entry is named) and writes it as the domain and rules Rasa reads.
$(GENERATED) &: $(CONTENT) | $(BIN)/.installed
	$(PYTHON) -m content.build

# make decides when to train; --force, because Rasa's training cache does not see a change to the
# code of components/ and would hand back the old classifier. Training takes about 20 s.
$(MODEL): $(TRAINING_INPUTS) | $(BIN)/.installed
	$(RASA) train --force --domain domain --fixed-model-name cops --out models

train: $(MODEL)

run: $(MODEL) $(WIDGET)
	$(PYTHON) -m ops.launch run

shell: $(MODEL)
	$(PYTHON) -m ops.launch shell $(if $(ID),--conversation-id "$(ID)") $(if $(CHAT_LANGUAGE),--language "$(CHAT_LANGUAGE)")

# Scale out on this machine (README.md, Scale out): it goes on running in the background once
# make cluster returns, until make cluster-down.
cluster: $(MODEL) $(WIDGET) /usr/bin/pg_ctlcluster /usr/sbin/nginx /usr/bin/redis-server
	$(PYTHON) -m ops.cluster up

cluster-down: | $(BIN)/.installed
	$(PYTHON) -m ops.cluster down

# What the NLU understands of each message typed (intent, confidence, entities); Ctrl-C ends it.
nlu: $(MODEL)
	$(RASA) shell nlu --model $(MODEL)

# A conversation from the tracker store as a test story: make story ID=<conversation id>
story: | $(BIN)/.installed
	@test -n "$(ID)" || { echo "usage: make story ID=<conversation id>"; exit 2; }
	@PYTHONWARNINGS=ignore $(PYTHON) -m scripts.story "$(ID)"

# Staff loop (docs/content.md): the unanswered questions, most asked first, from the tracker store
# (options: make report ARGS="--help"); and whether the contact data's links still work.
.PHONY: report check-links
report: | $(BIN)/.installed
	@$(PYTHON) -m scripts.report $(ARGS)

# The staff's page of figures (docs/content.md): written to var/dashboard.html, its path printed;
# OPEN=1 opens it in the browser (options: make dashboard ARGS="--help").
.PHONY: dashboard
dashboard: | $(BIN)/.installed
	@$(PYTHON) -m scripts.dashboard $(if $(OPEN),--open) $(ARGS)

check-links: | $(BIN)/.installed
	@$(PYTHON) -m scripts.check_links $(ARGS)

# Retention (docs/privacy.md): deletes the conversations idle longer than privacy/settings.yml's
# retention_days; safe while the assistant runs, as it takes each conversation's lock. DRY_RUN=1
# only lists them (options: make purge ARGS="--help").
.PHONY: purge
purge: | $(BIN)/.installed
	@$(PYTHON) -m scripts.purge $(if $(DRY_RUN),--dry-run) $(ARGS)

# A question set (tests/blind/README.md) asked over REST of the assistant `make run` started.
.PHONY: score
score: | $(BIN)/.installed
	@test -n "$(SET)" || { echo "usage: make score SET=<question set> [URL=http://localhost:5005]"; exit 2; }
	@$(PYTHON) -m scripts.score_questions $(if $(URL),--url "$(URL)") "$(SET)"

# Trains both configurations from scratch and serves each on free ports: it needs no model of make's.
# Its cluster row runs make cluster's servers (Debian's PostgreSQL, nginx and Redis) on free ports.
.PHONY: bench
bench: $(GENERATED) | $(BIN)/.installed /usr/bin/pg_ctlcluster /usr/sbin/nginx /usr/bin/redis-server
	$(PYTHON) -m bench.run $(BENCH)

test: lint test-unit test-data test-stories test-nlu test-python

lint: | $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-unit: $(GENERATED) | $(BIN)/.installed
	$(PYTHON) -m pytest $(UNIT_TESTS)

test-data: $(GENERATED) | $(BIN)/.installed
	$(RASA) data validate --domain domain --fail-on-warnings

test-stories: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
		--fail-on-prediction-errors --no-plot --out results/stories

test-nlu: $(MODEL)
	$(RASA) test nlu --model $(MODEL) --domain domain --nlu tests/nlu_holdout.yml --no-plot --out results/holdout
	$(PYTHON) -m scripts.check_f1 results/holdout/intent_report.json --min $(MIN_HOLDOUT_F1)
	$(RASA) test nlu --model $(MODEL) --domain domain --nlu tests/nlu_holdout_es.yml --no-plot --out results/holdout_es
	$(PYTHON) -m scripts.check_f1 results/holdout_es/intent_report.json --min $(MIN_HOLDOUT_F1) --label Spanish

test-python: $(MODEL) $(WIDGET) /usr/bin/chromium /usr/bin/pg_ctlcluster /usr/sbin/nginx /usr/bin/redis-server
	$(PYTHON) -m pytest tests $(addprefix --ignore=,$(UNIT_TESTS))

clean:
	rm -rf models results $(GENERATED)
