#!/usr/bin/env bash
# Everything CI checks, in one command (README "Run the tests"; .ci/run calls exactly this):
#   1. ruff over the Python sources, mypy (pyproject.toml [tool.mypy]) and the layer contracts
#      (import-linter, pyproject.toml [tool.importlinter]);
#   2. the VS Code extension's own checks (`npm test` in client-vscode: tsc --strict, eslint,
#      unit tests, the bundle), skipped with a note when Node/npm are missing;
#   3. the Python suite (unit, property, CLI, language-server, editor end-to-end tests), last, so
#      that its summary is the closing line. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ruff"
ruff check server tests bench
echo "== mypy"
mypy
echo "== import-linter"
lint-imports

echo "== client-vscode: npm test"
if command -v npm >/dev/null 2>&1; then
  (
    cd client-vscode
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund --loglevel=error
    fi
    npm test --silent
  )
else
  echo "skipped: node/npm are not installed (the extension's checks need Node 20)"
fi

echo "== pytest"
python -m pytest -q -n 2 "$@"
