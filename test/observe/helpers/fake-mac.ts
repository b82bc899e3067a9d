// A small stand-in Mac for probe tests that do not need the full simulator:
// a temp HOME, a FLEET_ROOT with Homebrew's files, and a PATH directory of sh
// scripts that print the real output samples of macos-commands.md (exit
// codes included), plus a fake Ollama HTTP server on 127.0.0.1:0.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FakeMacOptions {
  provisioned: boolean;
  arch?: 'arm64' | 'x86_64';
}

export interface FakeMac {
  dir: string;
  home: string;
  root: string;
  env: NodeJS.ProcessEnv;
  remove(): void;
}

function script(path: string, body: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A `case "$*"` stand-in: each entry is [args pattern, sh body]. */
function caseScript(path: string, cases: [string, string][], fallback = 'echo "unexpected: $*" >&2; exit 64'): void {
  script(path, `case "$*" in\n${cases.map(([p, b]) => `  ${p}) ${b} ;;`).join('\n')}\n  *) ${fallback} ;;\nesac`);
}

export const ENV_FILE = 'OLLAMA_HOST=0.0.0.0\nOLLAMA_KEEP_ALIVE=24h\nOLLAMA_MAX_LOADED_MODELS=2\n';
export const HEARTBEAT_LINE = '* * * * * bash ~/.symphony/heartbeat.sh';

export function makeFakeMac(options: FakeMacOptions): FakeMac {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-fake-mac-'));
  const home = join(dir, 'home');
  const root = join(dir, 'root');
  const bin = join(dir, 'bin');
  const arch = options.arch ?? 'arm64';
  const p = options.provisioned;
  mkdirSync(home, { recursive: true });
  mkdirSync(root, { recursive: true });

  caseScript(join(bin, 'scutil'), [
    ['"--get ComputerName"', p ? `printf '%s\\n' "Virtuoso"` : `printf '%s\\n' "Bob's Mac mini"`],
    ['"--get HostName"', p ? 'echo virtuoso' : "echo 'HostName: not set' >&2; exit 1"],
    ['"--get LocalHostName"', p ? 'echo virtuoso' : 'echo bobs-mac-mini'],
  ]);
  script(join(bin, 'sw_vers'), `printf 'ProductName:\\t\\tmacOS\\nProductVersion:\\t\\t14.5\\nBuildVersion:\\t\\t23F79\\n'`);
  caseScript(join(bin, 'uname'), [['"-m"', `echo ${arch}`]]);
  caseScript(join(bin, 'sysctl'), [
    ['"-n hw.optional.arm64"', arch === 'arm64' ? 'echo 1' : "echo \"sysctl: unknown oid 'hw.optional.arm64'\" >&2; exit 1"],
    ['"-n hw.memsize hw.ncpu hw.model machdep.cpu.brand_string"', arch === 'arm64' ? "printf '25769803776\\n10\\nMac16,10\\nApple M4\\n'" : "printf '68719476736\\n16\\niMac19,1\\nIntel(R) Core(TM) i9-9900K CPU @ 3.60GHz\\n'"],
  ]);
  caseScript(join(bin, 'launchctl'), [
    ['"list com.symphony.ollama"', p ? `printf '{\\n\\t"Label" = "com.symphony.ollama";\\n\\t"LastExitStatus" = 0;\\n\\t"PID" = 512;\\n};\\n'` : `echo 'Could not find service "com.symphony.ollama" in domain for port' >&2; exit 113`],
    ['"list homebrew.mxcl.ollama"', `echo 'Could not find service "homebrew.mxcl.ollama" in domain for port' >&2; exit 113`],
  ]);
  caseScript(join(bin, 'crontab'), [['"-l"', p ? `printf '%s\\n' '${HEARTBEAT_LINE}'` : "echo 'crontab: no crontab for bob' >&2; exit 1"]]);
  caseScript(join(bin, 'sudo'), [['"-n true"', p ? 'exit 0' : "echo 'sudo: a password is required' >&2; exit 1"]]);
  caseScript(join(bin, 'ipconfig'), [['"getifaddr en0"', p ? 'echo 192.168.1.42' : 'exit 1'], ['"getifaddr en1"', 'exit 1']]);

  if (p) {
    const prefix = arch === 'arm64' ? '/opt/homebrew' : '/usr/local';
    caseScript(join(root, prefix, 'bin', 'brew'), [
      ['"list --formula --versions"', "printf 'ollama 0.12.6\\n'"],
      ['"list --cask --versions"', "printf 'docker 4.30.0,150182\\ngoogle-chrome 126.0.6478.127\\n'"],
    ]);
    caseScript(join(root, prefix, 'bin', 'ollama'), [['"--version"', "echo 'ollama version is 0.12.6'"]]);
    for (const keg of ['Cellar/ollama/0.12.6/bin', 'Caskroom/docker/4.30.0,150182', 'Caskroom/docker/.metadata', 'Caskroom/google-chrome/126.0.6478.127']) {
      mkdirSync(join(root, prefix, keg), { recursive: true });
    }
    const files: Record<string, string> = {
      '.ollama/ollama.env': ENV_FILE,
      'Library/LaunchAgents/com.symphony.ollama.plist': '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>Label</key><string>com.symphony.ollama</string></dict></plist>\n',
      '.symphony/heartbeat.sh': '#!/bin/bash\ncurl -s -X POST http://192.168.1.10:8765/api/heartbeat\n',
      '.symphony/harpa_setup_instructions.txt': 'Open Chrome, install HARPA AI, sign in.\n',
      '.symphony/registry/self_registration.json': '{"node_id":"virtuoso"}',
    };
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(dirname(join(home, rel)), { recursive: true });
      writeFileSync(join(home, rel), content);
    }
    mkdirSync(join(home, '.symphony/logs'), { recursive: true });
    const manifest = '{"schemaVersion":2,"config":{"digest":"sha256:aa","size":485},"layers":[{"digest":"sha256:bb","size":4920000000}]}';
    mkdirSync(join(home, '.ollama/models/manifests/registry.ollama.ai/library/llama3.1'), { recursive: true });
    writeFileSync(join(home, '.ollama/models/manifests/registry.ollama.ai/library/llama3.1/8b'), manifest);
    mkdirSync(join(home, '.ollama/models/blobs'), { recursive: true });
    writeFileSync(join(home, '.ollama/models/blobs/sha256-cc-partial'), Buffer.alloc(2048));
    writeFileSync(join(home, '.ollama/models/blobs/sha256-cc-partial-0'), '{"N":0}');
  }

  return {
    dir,
    home,
    root,
    env: { HOME: home, USER: 'bob', FLEET_ROOT: root, PATH: `${bin}:/usr/bin:/bin:/usr/sbin:/sbin`, LANG: 'C' },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface FakeOllama {
  port: number;
  url: string;
  mode: { status: 'ok' | '500' };
  close(): Promise<void>;
}

export const TAGS = {
  models: [
    { name: 'llama3.1:8b', model: 'llama3.1:8b', modified_at: '2026-10-03T23:34:03.409490317-07:00', size: 4920753328, digest: '46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e', details: { format: 'gguf', family: 'llama' } },
    { name: 'nomic-embed-text:latest', model: 'nomic-embed-text:latest', modified_at: '2026-09-12T10:00:00Z', size: 274302450, digest: '0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f', details: { format: 'gguf', family: 'nomic-bert' } },
  ],
};

export async function startFakeOllama(): Promise<FakeOllama> {
  const mode: FakeOllama['mode'] = { status: 'ok' };
  const server: Server = createServer((req, res) => {
    if (mode.status === '500') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"something went wrong"}');
      return;
    }
    const send = (body: unknown): void => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (req.url === '/api/version') send({ version: '0.12.6' });
    else if (req.url === '/api/tags') send(TAGS);
    else if (req.url === '/api/ps') send({ models: [{ ...TAGS.models[0], size: 6654289920, size_vram: 6654289920, context_length: 4096, expires_at: '2026-10-04T00:00:00Z' }] });
    else { res.writeHead(404); res.end('404 page not found'); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, mode, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** Writes a private key file (mode 600) and returns its path. */
export function makeKeyPairFile(dir: string, privateKey: string): string {
  const path = join(dir, 'id_ed25519');
  writeFileSync(path, privateKey, { mode: 0o600 });
  return path;
}
