#!/usr/bin/env bash
# Validates src/openapi.json (the document GET /v1/openapi.json serves) as
# OpenAPI 3.1 with openapi-spec-validator, from a private virtualenv kept in
# .state/venv (created once; later runs only validate).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.state/venv
if ! "$venv/bin/python" -c 'import openapi_spec_validator' 2>/dev/null; then
  echo "[openapi] installing openapi-spec-validator into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'openapi-spec-validator==0.7.2' >&2
fi
"$venv/bin/python" - <<'PY'
import json
from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator  # noqa: F401 (3.1 support)
doc = json.load(open("src/openapi.json"))
assert doc["openapi"].startswith("3.1"), doc["openapi"]
validate(doc)
print(f"openapi: src/openapi.json is valid OpenAPI {doc['openapi']} ({len(doc['paths'])} paths)")
PY
