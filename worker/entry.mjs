// The worker's entry point: the Rust worker built by worker-build, wrapped so
// that a failure escaping Rust still answers the API's 500 envelope with a
// Request-Id instead of the runtime's bare error page:
// - an exception (e.g. a binding that cannot be read) is caught here;
// - a panic traps the Wasm instance, so the request's future never settles:
//   the Rust panic hook calls `__cm_on_panic`, which fails every request in
//   flight on this instance. worker-build's shim re-initialises the instance
//   on the next request.
import Rust, { TenantObject as RustTenantObject } from "../build/index.js";
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
// Imported as text (module rules in wrangler.toml): the OpenAPI document,
// served verbatim by GET /v1/openapi.json, and the manifest schema the
// validator compiles. Static text stays out of the Wasm module.
import openapi from "../src/openapi.json";
import manifestSchema from "../catalog/manifest.schema.json";

// The tenant's Durable Object. Declared here, extending DurableObject, so the
// worker can call `command` by RPC: one call with JSON text each way, where a
// fetch would build a Request, a Response and a body stream on both sides.
export class TenantObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.rust = new RustTenantObject(ctx, env);
  }

  command(text) {
    return this.rust.command(text);
  }

  fetch(request) {
    return this.rust.fetch(request);
  }

  alarm() {
    return this.rust.alarm();
  }
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const inflight = new Set();

globalThis.__cm_on_panic = () => {
  for (const fail of inflight) fail(new Error("the Wasm instance panicked"));
  inflight.clear();
};

globalThis.__cm_openapi = () => openapi;
globalThis.__cm_manifest_schema = () => manifestSchema;

function requestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return "req_" + Array.from(bytes, (b) => ALPHABET[b % 62]).join("");
}

function internalError(request, cause) {
  const id = requestId();
  console.error(`${id} ${request.method} ${new URL(request.url).pathname}: unhandled: ${cause && cause.message}`);
  const body = {
    error: {
      type: "api_error",
      code: "internal_error",
      message: "Something went wrong on our side. The request id identifies it if you contact support.",
      request_id: id,
    },
  };
  return new Response(JSON.stringify(body), {
    status: 500,
    headers: { "content-type": "application/json; charset=utf-8", "request-id": id, "cache-control": "no-store" },
  });
}

// The end-user connect page: every /connect/{token} answers the connect.html
// asset (wrangler.toml runs the worker first for /connect/*); the page reads
// the token from its own path. Answered here, at the edge, with the headers
// that suit a page whose URL is a credential: no referrer, never cached. It
// may be framed (no X-Frame-Options, no frame-ancestors), so that a customer
// can embed it in their app; the console itself refuses framing (_headers).
const CONNECT_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'";

async function connectPage(request, env) {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response(null, { status: 405, headers: { allow: "GET, HEAD", "cache-control": "no-store" } });
  }
  // html_handling serves connect.html at /connect (auto-trailing-slash).
  const asset = await env.ASSETS.fetch(new Request(new URL("/connect", request.url), { method: request.method }));
  if (!asset.ok) return new Response("The connect page is not built (make build).", { status: 500, headers: { "cache-control": "no-store" } });
  const headers = new Headers(asset.headers);
  headers.delete("x-frame-options");
  headers.delete("etag");
  headers.set("content-security-policy", CONNECT_CSP);
  headers.set("referrer-policy", "no-referrer");
  headers.set("cache-control", "no-store");
  headers.set("x-content-type-options", "nosniff");
  return new Response(asset.body, { status: 200, headers });
}

export default class Api extends WorkerEntrypoint {
  async fetch(request) {
    if (this.env.ASSETS && new URL(request.url).pathname.startsWith("/connect/")) {
      return connectPage(request, this.env);
    }
    let fail;
    const panicked = new Promise((_, reject) => (fail = reject));
    inflight.add(fail);
    try {
      return await Promise.race([new Rust(this.ctx, this.env).fetch(request), panicked]);
    } catch (e) {
      return internalError(request, e);
    } finally {
      inflight.delete(fail);
    }
  }

  async scheduled(controller) {
    return new Rust(this.ctx, this.env).scheduled(controller);
  }
}
