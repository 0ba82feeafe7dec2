// MCP test client on the official TypeScript SDK v2 client package (`@modelcontextprotocol/client` 2.x),
// over Streamable HTTP.
//
//     node tests/mcp/client_modern.mjs URL BEARER_TOKEN COMMANDS_JSON
//
// Same CLI and output as tests/mcp/client.py (see tests/mcp/README.md). Pins protocol revision
// 2026-07-28 (`versionNegotiation: { mode: { pin } }`: a `server/discover` at connect that must offer
// it, no fallback). MCP_CLIENT_MODE=auto probes and falls back to `initialize`; =legacy runs only the
// `initialize` handshake. The SDK is loaded from .state/mcp-node (scripts/mcp-clients.sh installs it).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The ESM build, by path: createRequire().resolve() would pick the CommonJS one.
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.state', 'mcp-node', 'node_modules', '@modelcontextprotocol', 'client');
const { Client, StreamableHTTPClientTransport, ProtocolError, SdkError } = await import(
  pathToFileURL(join(pkgDir, 'dist', 'index.mjs')).href
);
const sdkVersion = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;

const [url, token, commandsJson] = process.argv.slice(2);
if (commandsJson === undefined) {
  console.error('usage: client_modern.mjs URL BEARER_TOKEN COMMANDS_JSON');
  process.exit(2);
}
const commands = JSON.parse(commandsJson);
const modeEnv = process.env.MCP_CLIENT_MODE ?? '2026-07-28';
const mode = modeEnv === 'auto' || modeEnv === 'legacy' ? modeEnv : { pin: modeEnv };

const errorOf = (e) =>
  ProtocolError.isInstance(e)
    ? { error: { code: e.code, message: e.message, ...(e.data !== undefined && { data: e.data }) } }
    : SdkError.isInstance(e)
      ? { error: { code: null, message: `SdkError(${e.code}): ${e.message}` } }
      : { error: { code: null, message: `${e?.name ?? 'Error'}: ${e?.message ?? e}` } };

// requestInit.headers go on every request the transport makes.
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: 'connector-marketplace-e2e-modern', version: '0.0.0' }, { versionNegotiation: { mode } });
try {
  await client.connect(transport);
} catch (e) {
  console.error(`connect failed: ${e?.name ?? 'Error'}: ${e?.message ?? e}${e?.cause ? ` (cause: ${e.cause?.message ?? e.cause})` : ''}`);
  process.exit(1);
}

const steps = [];
for (const cmd of commands) {
  try {
    if (cmd.op === 'list') {
      // listTools() without a cursor walks every nextCursor page itself (up to listMaxPages, 64).
      // It serves a still-fresh cached aggregate (the server's ttlMs) under the default cacheMode
      // 'use'; 'refresh' always goes to the wire and re-stores the aggregate, which callTool reads
      // for output-schema validation and Mcp-Param-* header mirroring.
      const { tools } = await client.listTools(undefined, { cacheMode: 'refresh' });
      steps.push({ tools });
    } else if (cmd.op === 'call') {
      // params._meta rides in the request params object; the SDK adds its 2026-07-28 envelope keys
      // (protocolVersion, clientInfo, clientCapabilities) beside ours, ours win on a clash.
      const result = await client.callTool({
        name: cmd.name,
        arguments: cmd.arguments ?? {},
        ...(cmd.meta !== undefined && { _meta: cmd.meta }),
      });
      steps.push({
        isError: result.isError ?? false,
        content: result.content ?? [],
        structuredContent: result.structuredContent ?? null,
        _meta: result._meta ?? null,
      });
    } else {
      throw new Error(`unknown op: ${cmd.op}`);
    }
  } catch (e) {
    steps.push(errorOf(e));
  }
}

const out = {
  sdk: `@modelcontextprotocol/client@${sdkVersion}`,
  protocol_version: client.getNegotiatedProtocolVersion() ?? null,
  steps,
};
await client.close();
process.stdout.write(JSON.stringify(out) + '\n');
