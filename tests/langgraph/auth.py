"""The server's API-key check, as LangGraph's custom authentication runs it
(langgraph.json `auth`): every request but `/ok` must carry
`X-Api-Key: $LANGGRAPH_E2E_API_KEY` and, when `LANGGRAPH_E2E_HEADER` is set
(`Name: value`), that header too. `langgraph dev` has no key check of its own."""

import hmac
import os

from langgraph_sdk import Auth

auth = Auth()


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


@auth.authenticate
async def authenticate(headers: dict) -> str:
    # Header names arrive lower-cased, as bytes.
    got = {k.decode().lower(): v.decode() for k, v in headers.items()}
    want_key = os.environ.get("LANGGRAPH_E2E_API_KEY", "")
    if not want_key or not _same(got.get("x-api-key"), want_key):
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid API key")
    extra = os.environ.get("LANGGRAPH_E2E_HEADER", "")
    if extra:
        name, _, value = extra.partition(":")
        if not _same(got.get(name.strip().lower()), value.strip()):
            raise Auth.exceptions.HTTPException(
                status_code=403, detail=f"Missing or wrong {name.strip()} header"
            )
    return "e2e-user"
