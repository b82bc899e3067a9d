// Every probe parser against the real output samples of
// shared/reference/macos-commands.md and ollama-api.md, odd cases included.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArm64Capable, parseDfPk, parseDuSk, parseIfAddr, parseInteger, parseScutilName, parseSudo, parseSwVers, parseSysctlValues, parseUname, parseWcBytes } from '../../reconciler/src/observe/parse-system.ts';
import { brewServiceStatus, compareVersions, parseBrewKegs, parseBrewListVersions } from '../../reconciler/src/observe/parse-brew.ts';
import { parseBrewServices } from './helpers/brew-services.ts';
import { observeFileContent, splitHeadOutput } from '../../reconciler/src/observe/parse-files.ts';
import { parseCrontab } from '../../reconciler/src/observe/parse-crontab.ts';
import { parseLaunchctlLabel, parseLaunchctlList } from '../../reconciler/src/observe/parse-launchd.ts';
import {
  modelNameFromManifestPath, parseCurlMulti, parseCurlResponse, parseHumanSize, parseManifestListing, parseOllamaCliVersion, parseOllamaList, parseOllamaPs, parsePsBody, parseTagsBody, parseVersionBody,
} from '../../reconciler/src/observe/parse-ollama.ts';
import { SYSCTL_NAMES } from '../../reconciler/src/observe/probe.ts';

const fixture = (path: string): string => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'observe', path), 'utf8');

describe('names (scutil)', () => {
  it('reads a ComputerName with spaces and an apostrophe', () => {
    expect(parseScutilName(fixture('scutil/computer-name.txt'), 0)).toBe("Bob's Mac mini");
  });
  it('takes an unset HostName (nothing on stdout, exit 1) as null', () => {
    expect(parseScutilName('', 1)).toBeNull();
  });
  it('does not take exit 0 with empty output as a name', () => {
    expect(parseScutilName('\n', 0)).toBeNull();
  });
});

describe('sw_vers', () => {
  it('two tabs (macOS 13+)', () => {
    expect(parseSwVers(fixture('sw-vers/macos14-two-tabs.txt'))).toEqual({ product_name: 'macOS', product_version: '14.5', product_version_extra: null, build_version: '23F79' });
  });
  it('one tab (macOS 11/12)', () => {
    expect(parseSwVers(fixture('sw-vers/macos12-one-tab.txt'))).toMatchObject({ product_version: '12.7.4', build_version: '21H1123' });
  });
  it('a Rapid Security Response line before BuildVersion', () => {
    expect(parseSwVers(fixture('sw-vers/rapid-security-response.txt'))).toEqual({ product_name: 'macOS', product_version: '13.4.1', product_version_extra: '(a)', build_version: '22F770820d' });
  });
  it('nothing known from empty output', () => {
    expect(parseSwVers('')).toEqual({ product_name: null, product_version: null, product_version_extra: null, build_version: null });
  });
});

describe('hardware (uname, sysctl)', () => {
  it('uname -m', () => {
    expect(parseUname('arm64\n', 0)).toBe('arm64');
    expect(parseUname('x86_64\n', 0)).toBe('x86_64');
    expect(parseUname('', 127)).toBeNull();
  });
  it('hw.optional.arm64: 1 on Apple Silicon, Intel error on stderr exit 1, or 0', () => {
    expect(parseArm64Capable('1\n', 0)).toBe(true);
    expect(parseArm64Capable('', 1)).toBe(false);
    expect(fixture('sysctl/intel-arm64.stderr.txt')).toContain('unknown oid');
    expect(parseArm64Capable('0\n', 0)).toBe(false);
    expect(parseArm64Capable('', null)).toBeNull();
  });
  it('one sysctl call for the names every Mac knows', () => {
    const m2 = parseSysctlValues(fixture('sysctl/m2-pro-values.txt'), 0, SYSCTL_NAMES);
    expect(m2).toEqual({ 'hw.memsize': '17179869184', 'hw.ncpu': '10', 'hw.model': 'Mac14,12', 'machdep.cpu.brand_string': 'Apple M2 Pro' });
    expect(parseInteger(m2['hw.memsize'])).toBe(17179869184);
    const intel = parseSysctlValues(fixture('sysctl/intel-imac-values.txt'), 0, SYSCTL_NAMES);
    expect(intel['machdep.cpu.brand_string']).toBe('Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz');
    expect(parseInteger(intel['hw.memsize'])).toBe(64 * 2 ** 30);
  });
  it('trusts no value when an unknown name broke the call (lines do not line up)', () => {
    const v = parseSysctlValues('17179869184\n10\n', 1, SYSCTL_NAMES);
    expect(Object.values(v).every((x) => x === null)).toBe(true);
  });
  it('parseInteger refuses non-numbers', () => {
    expect(parseInteger('12a')).toBeNull();
    expect(parseInteger(null)).toBeNull();
    expect(parseInteger(' 501\n')).toBe(501);
  });
});

describe('disk', () => {
  it('df -Pk of the data volume, in bytes', () => {
    expect(parseDfPk(fixture('df/apfs-data-volume.txt'))).toEqual({
      filesystem: '/dev/disk3s5', total_bytes: 482797652 * 1024, used_bytes: 201234567 * 1024, available_bytes: 258930396 * 1024, mounted_on: '/System/Volumes/Data',
    });
  });
  it('df with spaces in the filesystem or the mount point', () => {
    expect(parseDfPk(fixture('df/spaces-in-names.txt'))).toMatchObject({ filesystem: 'map auto_home', available_bytes: 0 });
    expect(parseDfPk(fixture('df/mount-point-with-space.txt'))).toMatchObject({ mounted_on: '/Volumes/Macintosh HD', available_bytes: 270000000 * 1024 });
  });
  it('df without a data line is unknown', () => {
    expect(parseDfPk('df: /nope: No such file or directory\n')).toBeNull();
    // (apply's disk check before a pull reads the same parser)
    expect(parseDfPk('Filesystem 1024-blocks Used Available Capacity Mounted on\nmap auto home 100 50 50 50% /Volumes/My Disk\n')?.available_bytes).toBe(50 * 1024);
    expect(parseDfPk('garbage')).toBeNull();
  });
  it('du -sk; a missing models directory is 0 bytes', () => {
    expect(parseDuSk('4805844\t/Users/bob/.ollama/models\n', 0)).toBe(4805844 * 1024);
    expect(parseDuSk('', 1, 'du: /Users/bob/.ollama/models: No such file or directory\n')).toBe(0);
    expect(parseDuSk('', 1, 'du: permission denied\n')).toBeNull();
  });
  it('wc -c of partial blobs, without the total line', () => {
    expect(parseWcBytes('  104857600 /Users/bob/.ollama/models/blobs/sha256-aa-partial\n 2048 /Users/bob/.ollama/models/blobs/sha256-bb-partial\n 104859648 total\n')).toBe(104859648);
    expect(parseWcBytes('')).toBe(0);
  });
});

describe('network and root', () => {
  it('ipconfig getifaddr: the address, or nothing with exit 1', () => {
    expect(parseIfAddr('192.168.1.50\n', 0)).toBe('192.168.1.50');
    expect(parseIfAddr('', 1)).toBeNull();
  });
  it('sudo -n true: only exit 0 counts', () => {
    expect(parseSudo(0)).toBe(true);
    expect(parseSudo(1)).toBe(false);
    expect(parseSudo(null)).toBe(false);
  });
});

describe('Homebrew', () => {
  it('list --versions, newest of several versions', () => {
    expect(parseBrewListVersions(fixture('brew/formulae-versions.txt'))).toEqual({ ollama: '0.5.7', git: '2.45.1', 'python@3.12': '3.12.4', 'openssl@3': '3.3.1' });
    expect(parseBrewListVersions(fixture('brew/casks-versions.txt'))).toEqual({ docker: '4.30.0,150182', 'google-chrome': '126.0.6478.127' });
    expect(parseBrewListVersions('')).toEqual({});
  });
  it('orders versions numerically', () => {
    expect(compareVersions('0.10.0', '0.9.9')).toBeGreaterThan(0);
    expect(parseBrewListVersions('ollama 0.9.9 0.10.0\n')).toEqual({ ollama: '0.10.0' });
  });
  it('the Cellar and Caskroom listing is what brew list --versions says', () => {
    const listing = [
      '/opt/homebrew/Cellar/ollama/0.5.7', '/opt/homebrew/Cellar/ollama/0.12.6', '/opt/homebrew/Cellar/python@3.12/3.12.4_1',
      '/opt/homebrew/Caskroom/docker/4.30.0,150182', '/opt/homebrew/Caskroom/docker/.metadata', '/opt/homebrew/Caskroom/google-chrome/latest', '',
    ].join('\n');
    expect(parseBrewKegs(listing)).toEqual({ formulae: { ollama: '0.12.6', 'python@3.12': '3.12.4_1' }, casks: { docker: '4.30.0,150182', 'google-chrome': 'latest' } });
    expect(parseBrewKegs('')).toEqual({ formulae: {}, casks: {} });
  });
  it('brew services list: the table and --json agree', () => {
    const expected = { ollama: 'started', unbound: 'none' };
    expect(parseBrewServices(fixture('brew/services.txt'))).toEqual(expected);
    expect(parseBrewServices(fixture('brew/services.json'))).toEqual(expected);
    expect(parseBrewServices('[not json')).toEqual({});
  });
  it('a service\'s status from its launchd label, as brew services derives it', () => {
    expect(brewServiceStatus({ loaded: true, pid: 512, last_exit: 0 })).toBe('started');
    expect(brewServiceStatus({ loaded: true, pid: null, last_exit: 1 })).toBe('error');
    expect(brewServiceStatus({ loaded: true, pid: null, last_exit: -9 })).toBe('error');
    expect(brewServiceStatus({ loaded: true, pid: null, last_exit: 0 })).toBe('stopped');
    expect(brewServiceStatus({ loaded: true, pid: null, last_exit: null })).toBe('stopped');
    expect(brewServiceStatus({ loaded: false, pid: null, last_exit: null })).toBe('none');
    expect(brewServiceStatus(null)).toBeNull();
  });
});

describe('Ollama', () => {
  it('--version, server up or down', () => {
    expect(parseOllamaCliVersion(fixture('ollama/version.txt'))).toBe('0.12.6');
    expect(parseOllamaCliVersion('', fixture('ollama/version-server-down.txt'))).toBe('0.12.6');
    expect(parseOllamaCliVersion('zsh: command not found: ollama')).toBeNull();
    // a CLI upgraded under a running server: the CLI's own version wins
    expect(parseOllamaCliVersion('ollama version is 0.12.6\nWarning: client version is 0.12.7\n')).toBe('0.12.7');
  });
  it('sizes in decimal units', () => {
    expect(parseHumanSize('4.9 GB')).toBe(4.9e9);
    expect(parseHumanSize('274 MB')).toBe(274e6);
    expect(parseHumanSize('42 GB')).toBe(42e9);
    expect(parseHumanSize('12 KB')).toBe(12000);
    expect(parseHumanSize('lots')).toBeNull();
  });
  it('ollama list: names with tags, MB and GB sizes', () => {
    expect(parseOllamaList(fixture('ollama/list.txt'))).toEqual([
      { name: 'llama3.1:70b', id: '711a9e8463af', size: 42e9, size_text: '42 GB', modified: 'About an hour ago' },
      { name: 'llama3.1:8b', id: '46e0c10c039e', size: 4.9e9, size_text: '4.9 GB', modified: '2 days ago' },
      { name: 'nomic-embed-text:latest', id: '0a109f422b47', size: 274e6, size_text: '274 MB', modified: '3 weeks ago' },
    ]);
  });
  it('ollama list with no models', () => {
    expect(parseOllamaList(fixture('ollama/list-no-models.txt'))).toEqual([]);
  });
  it('ollama ps: GPU share and context', () => {
    const rows = parseOllamaPs(fixture('ollama/ps.txt'));
    expect(rows.map((r) => [r.name, r.gpu_percent, r.context, r.until])).toEqual([
      ['llama3.1:8b', 100, 4096, '4 minutes from now'],
      ['llama3.1:70b', 52, 8192, 'Forever'],
    ]);
  });
  it('/api/tags: name, bare digest, exact size; none is []', () => {
    expect(parseTagsBody(fixture('ollama/tags.json'))).toEqual([
      { name: 'llama3.1:8b', digest: '46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e', size: 4920753328 },
      { name: 'nomic-embed-text:latest', digest: '0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f', size: 274302450 },
    ]);
    expect(parseTagsBody(fixture('ollama/tags-empty.json'))).toEqual([]);
    expect(parseTagsBody('{"error":"boom"}')).toBeNull();
    expect(parseTagsBody('<html>')).toBeNull();
  });
  it('/api/ps and /api/version', () => {
    expect(parsePsBody(fixture('ollama/ps.json'))).toEqual([{ name: 'llama3.1:8b', size: 6654289920, size_vram: 6654289920, context_length: 4096 }]);
    expect(parseVersionBody('{"version":"0.12.6"}')).toBe('0.12.6');
    expect(parseVersionBody('{"version":""}')).toBeNull();
  });
  it('curl framing: status on the last line, errors by exit code', () => {
    expect(parseCurlResponse('{"version":"0.12.6"}\n200', 0)).toEqual({ status: 200, body: '{"version":"0.12.6"}' });
    expect(parseCurlResponse('{"error":"internal"}\n500', 0)).toMatchObject({ status: 500, error: 'HTTP 500: internal' });
    expect(parseCurlResponse('\n000', 7)).toMatchObject({ status: null, error: expect.stringContaining('connection refused') });
    expect(parseCurlResponse('', 28)).toMatchObject({ status: null, error: expect.stringContaining('timed out') });
    expect(parseCurlResponse('', null)).toMatchObject({ status: null });
  });
  it('one curl, several URLs: each body followed by its status and exit code', () => {
    const m = '@@curl-abc';
    const out = `{"version":"0.12.6"}\n${m} 200 0\n{"models":[]}\n${m} 200 0\n{"error":"boom"}\n${m} 500 0\n`;
    expect(parseCurlMulti(out, m)).toEqual([
      { status: 200, body: '{"version":"0.12.6"}' }, { status: 200, body: '{"models":[]}' }, { status: 500, body: '{"error":"boom"}', error: 'HTTP 500: boom' },
    ]);
    const refused = `\n${m} 000 7\n\n${m} 000 7\n\n${m} 000 7\n`;
    expect(parseCurlMulti(refused, m).map((r) => r.error)).toEqual(Array(3).fill('curl exit 7: connection refused (Ollama not running)'));
    // An old curl without %{exitcode} prints nothing for it.
    expect(parseCurlMulti(`{}\n${m} 000 \n`, m)[0]?.status).toBeNull();
  });
  it('manifests on disk: names as /api/tags gives them, digest = sha256 of the manifest, size = config + layers', () => {
    expect(modelNameFromManifestPath('/Users/bob/.ollama/models/manifests/registry.ollama.ai/library/llama3.1/8b')).toBe('llama3.1:8b');
    expect(modelNameFromManifestPath('/m/manifests/registry.ollama.ai/someone/tool/latest')).toBe('someone/tool:latest');
    expect(modelNameFromManifestPath('/m/manifests/hf.co/org/model/q4')).toBe('hf.co/org/model:q4');
    const manifest = '{"schemaVersion":2,"config":{"digest":"sha256:aa","size":485},"layers":[{"digest":"sha256:bb","size":4920734272},{"digest":"sha256:cc","size":12403}]}';
    const listing = `==> /dev/null <==\n\n==> /h/.ollama/models/manifests/registry.ollama.ai/library/llama3.1/8b <==\n${manifest}\n==> /h/.ollama/models/manifests/registry.ollama.ai/library/nomic-embed-text/latest <==\n{"config":{"size":1},"layers":[]}`;
    const models = parseManifestListing(listing);
    expect(models.map((m) => [m.name, m.size])).toEqual([['llama3.1:8b', 485 + 4920734272 + 12403], ['nomic-embed-text:latest', 1]]);
    expect(models[0]?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(parseManifestListing('==> /dev/null <==\n')).toEqual([]);
  });
});

describe('launchd and cron', () => {
  it('launchctl list LABEL, running', () => {
    expect(parseLaunchctlLabel(fixture('launchctl/label-running.txt'), 0, 'com.symphony.ollama')).toEqual({ loaded: true, pid: 512, last_exit: 0 });
  });
  it('launchctl list LABEL, loaded but not running, raw wait status normalised', () => {
    expect(parseLaunchctlLabel(fixture('launchctl/label-crashed-not-running.txt'), 0, 'com.symphony.ollama')).toEqual({ loaded: true, pid: null, last_exit: 78 });
  });
  it('not loaded: exit 113', () => {
    expect(parseLaunchctlLabel('', 113, 'com.symphony.ollama', fixture('launchctl/label-not-loaded.stderr.txt'))).toEqual({ loaded: false, pid: null, last_exit: null });
  });
  it('the table form', () => {
    expect(parseLaunchctlList(fixture('launchctl/list-table.txt'))).toEqual([
      { pid: null, status: 0, label: 'com.apple.SafariHistoryServiceAgent' },
      { pid: 512, status: 0, label: 'com.symphony.ollama' },
      { pid: null, status: -9, label: 'com.example.crashed' },
    ]);
    expect(parseLaunchctlLabel('512\t0\tcom.symphony.ollama\n', 0, 'com.symphony.ollama')).toEqual({ loaded: true, pid: 512, last_exit: 0 });
  });
  it('another label in the block is not ours', () => {
    expect(parseLaunchctlLabel('{\n\t"Label" = "homebrew.mxcl.ollama";\n\t"PID" = 3;\n};\n', 0, 'com.symphony.ollama')).toBeNull();
  });
  it('crontab -l: lines kept as they are, blank lines included; no crontab is empty, not an error', () => {
    expect(parseCrontab(fixture('crontab/heartbeat-and-other.txt'), 0)).toEqual(['# heartbeat to Bob', '* * * * * bash ~/.symphony/heartbeat.sh', '', '0 3 * * * /usr/local/bin/backup.sh']);
    expect(parseCrontab('', 1, fixture('crontab/none.stderr.txt'))).toEqual([]);
    expect(parseCrontab('', 0)).toEqual([]);
    expect(parseCrontab('', 1, 'crontab: tmp/tmp.123: Operation not permitted\n')).toBeNull();
  });
});

describe('managed files (one head)', () => {
  it('splits head output by the expected headers; a missing file has none', () => {
    const out = '==> /dev/null <==\n\n==> .ollama/ollama.env <==\nOLLAMA_HOST=0.0.0.0\n\n==> .symphony/heartbeat.sh <==\nno newline at end\n==> .symphony/empty <==\n';
    const files = splitHeadOutput(out, ['.ollama/ollama.env', 'Library/missing.plist', '.symphony/heartbeat.sh', '.symphony/empty']);
    expect(Object.fromEntries(files)).toEqual({ '.ollama/ollama.env': 'OLLAMA_HOST=0.0.0.0\n', '.symphony/heartbeat.sh': 'no newline at end', '.symphony/empty': '' });
  });
  it('text that looks like a header inside a file is content, not a file', () => {
    const out = '==> /dev/null <==\n\n==> a <==\nx\n==> c <==\nfake\n\n==> b <==\nreal\n';
    expect(Object.fromEntries(splitHeadOutput(out, ['a', 'b']))).toEqual({ a: 'x\n==> c <==\nfake\n', b: 'real\n' });
  });
  it('sha256 and size of the bytes; text kept when small; missing is null', () => {
    expect(observeFileContent(undefined)).toBeNull();
    const text = 'héllo\n';
    expect(observeFileContent(text)).toEqual({ sha256: createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'), size: 7, content: text });
    const big = observeFileContent('x'.repeat(256 * 1024 + 1));
    expect(big).toMatchObject({ size: 256 * 1024 + 1, truncated: true });
    expect(big?.content).toBeUndefined();
  });
});
