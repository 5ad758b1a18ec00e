# The two commands of the README, and the pieces they are made of.
.PHONY: up test setup constraints clean-venv

# Set everything up, then run the main job on the embedded local platform.
up: setup
	.venv/bin/librechat-ops up

# Set everything up, then lint, type-check, check import contracts and run all tests.
test: setup
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

# Re-pin constraints.txt to what .venv has installed (after changing dependencies).
constraints:
	.venv/bin/python -m pip install -q -e '.[dev]'
	{ echo "# Versions the toolkit is tested with (pip freeze of .venv). Regenerate: make constraints"; \
	  .venv/bin/python -m pip freeze --exclude-editable; } > constraints.txt

clean-venv:
	rm -rf .venv
