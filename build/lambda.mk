# What ships, built with the Lambda runtime's own Python: `sam build` (BuildMethod: makefile) runs
# `make --makefile <CodeUri>/Makefile build-<LogicalId>` in a copy of the code folder, with ARTIFACTS_DIR
# set. Every module is compiled to a `__pycache__/*.cpython-313.pyc` Lambda can use as it is: hash-based
# and unchecked (PEP 552), so neither the zip's timestamps nor the read-only /var/task and /opt matter.
#
# The layer's Makefile has its own target; a function's Makefile only includes this file (rule below).

PY313 ?= python3.13
ifneq ($(shell $(PY313) -c 'import sys; print(sys.version_info[:2] == (3, 13))' 2>/dev/null),True)
$(error the build needs Python 3.13, the functions' runtime, as '$(PY313)' (not found or another version): install it (pyenv install 3.13) and put it on PATH, or run make PY313=/path/to/python3.13)
endif

# $(call compile,<folder>,<where Lambda puts it>): the recorded paths are the deployed ones, not the build's.
compile = $(PY313) -m compileall -q -j 0 --invalidation-mode unchecked-hash -s "$(1)" -p "$(2)" "$(1)"

# A function: its folder (without this Makefile and any local bytecode), compiled, as /var/task.
build-%:
	cp -R ./. "$(ARTIFACTS_DIR)/"
	rm -f "$(ARTIFACTS_DIR)/Makefile"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -type d -prune -exec rm -rf {} +
	$(call compile,$(ARTIFACTS_DIR),/var/task)
