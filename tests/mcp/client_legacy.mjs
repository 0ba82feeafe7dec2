// MCP test client on the official TypeScript SDK 1.x (`@modelcontextprotocol/sdk`), over Streamable HTTP.
//
//     node tests/mcp/client_legacy.mjs URL BEARER_TOKEN COMMANDS_JSON
//
// Same CLI and output as tests/mcp/client.py (see tests/mcp/README.md). SDK 1.x only knows the
// `initialize` handshake: it offers 2025-11-25 and accepts any of its supported handshake versions.
// The SDK is loaded from .state/mcp-node (scripts/mcp-clients.sh installs it).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The ESM builds, by path: createRequire().resolve() would pick the CommonJS ones.
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.state', 'mcp-node', 'node_modules', '@modelcontextprotocol', 'sdk');
const load = (file) => import(pathToFileURL(join(pkgDir, 'dist', 'esm', file)).href);
const { Client } = await load('client/index.js');
const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');
const { McpError } = await load('types.js');
const sdkVersion = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;

const [url, token, commandsJson] = process.argv.slice(2);
if (commandsJson === undefined) {
  console.error('usage: client_legacy.mjs URL BEARER_TOKEN COMMANDS_JSON');
  process.exit(2);
}
const commands = JSON.parse(commandsJson);

// McpError's message is "MCP error <code>: <server's message>": report the server's message.
const errorOf = (e) =>
  e instanceof McpError
    ? {
        error: {
          code: e.code,
          message: e.message.replace(/^MCP error -?\d+: /, ''),
          ...(e.data !== undefined && { data: e.data }),
        },
      }
    : { error: { code: null, message: `${e?.name ?? 'Error'}: ${e?.message ?? e}` } };

// requestInit.headers go on every request the transport makes (POST, GET, DELETE).
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: 'connector-marketplace-e2e-legacy', version: '0.0.0' });
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
      // SDK 1.x listTools() is one page, never cached: walk nextCursor ourselves.
      const tools = [];
      let cursor;
      do {
        const page = await client.listTools(cursor === undefined ? undefined : { cursor });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      steps.push({ tools });
    } else if (cmd.op === 'call') {
      // params._meta rides in the request params object as-is.
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

const out = { sdk: `@modelcontextprotocol/sdk@${sdkVersion}`, protocol_version: transport.protocolVersion ?? null, steps };
await client.close();
process.stdout.write(JSON.stringify(out) + '\n');
