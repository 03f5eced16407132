# The tests' Python: a virtual environment in .build/mcp-python with the official MCP SDK (2.x) and
# fastmcp 4 (test peers of the Swift suite), jsonschema, and pytest (the packaging tests).
# Shared by scripts/test and scripts/release --check. Source it; it defines functions only.

# ensure_test_python: creates or completes the environment; sets TEST_PYTHON to its python.
ensure_test_python() {
  local venv=.build/mcp-python
  if ! "$venv/bin/python" -c 'import mcp, fastmcp, jsonschema, pytest' >/dev/null 2>&1; then
    log "==> installing the Python MCP SDK, fastmcp and pytest into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'mcp>=2,<3' 'fastmcp==4.2.3' jsonschema pytest
  fi
  TEST_PYTHON=$PWD/$venv/bin/python
}
