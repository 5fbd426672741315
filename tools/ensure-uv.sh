#!/bin/sh
# Print the path of a usable `uv`, installing it into ./.tools if none is on PATH.
# Needs only python3; tries a private venv first, then `pip install --user`.
set -e
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$here/.tools/bin/uv" ]; then echo "$here/.tools/bin/uv"; exit 0; fi
if python3 -m venv "$here/.tools" >/dev/null 2>&1 && "$here/.tools/bin/python" -m pip install -q uv >&2; then
  echo "$here/.tools/bin/uv"; exit 0
fi
python3 -m pip install -q --user uv >&2 || python3 -m pip install -q --user --break-system-packages uv >&2
echo "$(python3 -m site --user-base)/bin/uv"
