#!/usr/bin/env bash
# Creates ./.venv (Python >= 3.11) and installs the dialer with its test tools into it.
# Run by demo.sh and test.sh; safe to run again. The install is editable, so only a change
# to pyproject.toml (dependencies, entry points, package data) needs pip again: a stamp in
# .venv records what was installed (pyproject.toml's hash, the Python version, this
# checkout's path) and pip runs only when it differs or is missing (a fresh clone, a new
# venv, an install that failed). Delete .venv/.dialer-installed to force a reinstall.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: the dialer needs Python 3.11 or newer ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x "$root/.venv/bin/python" ]; then
  "$python" -m venv "$root/.venv"
fi
stamp="$root/.venv/.dialer-installed"
installed="$("$root/.venv/bin/python" -I -c '
import hashlib, sys
from pathlib import Path
root = Path(sys.argv[1])
print(hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest(), sys.version.split()[0], root)
' "$root")"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$installed" ]; then
  exit 0
fi
rm -f "$stamp"
"$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[test]"
printf '%s\n' "$installed" >"$stamp"
