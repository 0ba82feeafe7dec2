#!/usr/bin/env bash
# Installs one PyPI package at an exact version into the private venv
# .state/venv (shared by the test tools; created when missing):
#   scripts/venv-pin.sh TAG PACKAGE VERSION
# Idempotent: when PACKAGE is at VERSION it reads one folder name and prints
# nothing; TAG names the caller in the one line it prints when it installs.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=$1 package=$2 version=$3
venv=.state/venv
dist=${package//-/_}
have=$(ls -d "$venv"/lib/python3*/site-packages/"$dist"-*.dist-info 2>/dev/null | sed -n "s/.*$dist-\(.*\)\.dist-info\$/\1/p" | head -1 || true)
if [ "$have" != "$version" ]; then
  printf '[%s] installing %s %s into %s\n' "$tag" "$package" "$version" "$venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$package==$version" >&2
fi
