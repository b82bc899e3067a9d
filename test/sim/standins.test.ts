// Contract tests: each macOS stand-in against the real output quoted in
// shared/reference/macos-commands.md, and against the parsers observe uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHardwareCatalog } from '../../reconciler/src/sim/hardware-profile.ts';
import {
  parseArm64Capable,
  parseDfPk,
  parseIfAddr,
  parseScutilName,
  parseSudo,
  parseSwVers,
  parseSysctlValues,
  parseUname,
} from '../../reconciler/src/observe/parse-system.ts';
import { parseCrontab, parseLaunchctlLabel, parseLaunchctlList } from '../../reconciler/src/observe/parse-launchd.ts';
import { brewServiceStatus, parseBrewListVersions } from '../../reconciler/src/observe/parse-brew.ts';
import { parseBrewServices } from '../observe/helpers/brew-services.ts';
import type { SimFleet } from '../../reconciler/src/sim/fleet.ts';
import type { SimNode } from '../../reconciler/src/sim/sim-node.ts';
import { REPO_FLEET_DIR, startTestFleet } from './fleet-fixture.ts';

let provisioned: { fleet: SimFleet; cleanup: () => Promise<void> };
let fresh: { fleet: SimFleet; cleanup: () => Promise<void> };
let bob: SimNode; // arm64, 16 GB, provisioned
let maestro: SimNode; // x86_64, 64 GB, provisioned
let john: SimNode; // arm64, fresh
const hardware = readHardwareCatalog(join(REPO_FLEET_DIR, 'catalog', 'hardware.yaml'));

beforeAll(async () => {
  provisioned = await startTestFleet({ fromDir: REPO_FLEET_DIR, preset: 'provisioned' });
  fresh = await startTestFleet({ nodes: 1, preset: 'fresh', user: 'john' });
  bob = provisioned.fleet.node('bob');
  maestro = provisioned.fleet.node('maestro');
  john = fresh.fleet.nodes[0] as SimNode;
});
afterAll(async () => {
  await provisioned.cleanup();
  await fresh.cleanup();
});

describe('hardware and OS facts', () => {
  it('sw_vers prints two tabs after each key, and the short forms', async () => {
    const r = await bob.exec('sw_vers');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ProductName:\t\tmacOS\nProductVersion:\t\t\d+\.\d+(\.\d+)?\nBuildVersion:\t\t[0-9A-Z]+\n$/);
    expect(parseSwVers(r.stdout)).toMatchObject({ product_name: 'macOS', product_version: '15.3.1', build_version: '24D70' });
    expect((await bob.exec('sw_vers -productVersion')).stdout).toBe('15.3.1\n');
  });

  it('uname -m follows the architecture of the hardware profile', async () => {
    expect(parseUname((await bob.exec('uname -m')).stdout, 0)).toBe('arm64');
    expect(parseUname((await maestro.exec('uname -m')).stdout, 0)).toBe('x86_64');
    expect((await bob.exec('uname')).stdout).toBe('Darwin\n');
  });

  it('sysctl prints the catalog RAM in bytes, one value per line, in order', async () => {
    const names = ['hw.memsize', 'hw.ncpu', 'hw.model', 'machdep.cpu.brand_string'] as const;
    for (const [node, id] of [[bob, 'mac-mini-m4-16gb'], [maestro, 'imac-27-2019-i9-64gb']] as const) {
      const r = await node.exec(`sysctl -n ${names.join(' ')}`);
      const values = parseSysctlValues(r.stdout, r.code, names);
      const hw = hardware[id];
      expect(values['hw.memsize']).toBe(String((hw?.ram_gb ?? 0) * 2 ** 30));
      expect(values['machdep.cpu.brand_string']).toBe(hw?.chip);
    }
    expect((await bob.exec('sysctl hw.memsize')).stdout).toBe('hw.memsize: 17179869184\n');
    expect((await bob.exec('sysctl -n vm.swapusage')).stdout).toMatch(/^total = \d+\.\d\dM {2}used = \d+\.\d\dM {2}free = \d+\.\d\dM {2}\(encrypted\)\n$/);
  });

  it('sysctl hw.optional.arm64: 1 on Apple Silicon, unknown oid on Intel', async () => {
    const arm = await bob.exec('sysctl -n hw.optional.arm64');
    expect(parseArm64Capable(arm.stdout, arm.code)).toBe(true);
    const intel = await maestro.exec('sysctl -n hw.optional.arm64');
    expect(intel).toEqual({ stdout: '', stderr: "sysctl: unknown oid 'hw.optional.arm64'\n", code: 1 });
    expect(parseArm64Capable(intel.stdout, intel.code)).toBe(false);
    expect((await maestro.exec('sysctl -n sysctl.proc_translated')).code).toBe(1);
  });
});

describe('names', () => {
  it('a fresh Mac has a factory name and no HostName', async () => {
    expect(parseScutilName((await john.exec('scutil --get ComputerName')).stdout, 0)).toBe("John's Mac mini");
    expect((await john.exec('scutil --get LocalHostName')).stdout).toBe('Johns-Mac-mini\n');
    const host = await john.exec('scutil --get HostName');
    expect(host).toEqual({ stdout: '', stderr: 'HostName: not set\n', code: 1 });
    expect(parseScutilName(host.stdout, host.code)).toBeNull();
    expect((await john.exec('hostname')).stdout).toBe('Johns-Mac-mini.local\n');
  });

  it('scutil --set needs root; with sudo -n the rename sticks and hostname follows', async () => {
    expect((await john.exec('scutil --set HostName virtuoso')).code).not.toBe(0);
    const set = await john.exec("sudo -n scutil --set ComputerName 'Bob'\\''s Mac' && sudo -n scutil --set HostName virtuoso && sudo -n scutil --set LocalHostName virtuoso");
    expect(set).toEqual({ stdout: '', stderr: '', code: 0 });
    expect((await john.exec('scutil --get ComputerName; hostname')).stdout).toBe("Bob's Mac\nvirtuoso\n");
    await john.exec('sudo -n scutil --set HostName ""; sudo -n scutil --set ComputerName "John\'s Mac mini"; sudo -n scutil --set LocalHostName Johns-Mac-mini');
  });
});

describe('root', () => {
  it('sudo -n: passwordless runs the command as root (id -u 0)', async () => {
    const r = await bob.exec('sudo -n true');
    expect(parseSudo(r.code)).toBe(true);
    expect((await bob.exec('id -u; sudo -n id -u')).stdout).toBe('501\n0\n');
  });

  it('sudo -n without a passwordless rule: "a password is required", exit 1', async () => {
    await john.setFault('sudo-password');
    try {
      const r = await john.exec('sudo -n true');
      expect(r).toEqual({ stdout: '', stderr: 'sudo: a password is required\n', code: 1 });
      expect(parseSudo(r.code)).toBe(false);
    } finally {
      await john.clearFault('sudo-password');
    }
  });
});

describe('disk', () => {
  it('df -Pk: the POSIX layout of the reference, one data volume', async () => {
    const r = await bob.exec('df -Pk "$HOME"');
    const [header, line] = r.stdout.split('\n');
    expect(header).toMatch(/^Filesystem +1024-blocks +Used +Available Capacity {2}Mounted on$/);
    expect(line).toMatch(/^\/dev\/disk3s5 +\d+ +\d+ +\d+ +\d+% {4}\/System\/Volumes\/Data$/);
    const usage = parseDfPk(r.stdout);
    expect(usage?.mounted_on).toBe('/System/Volumes/Data');
    expect(usage?.total_bytes).toBe(Math.floor(((hardware['mac-mini-m4-16gb']?.storage_gb ?? 0) * 1e9) / 1024) * 1024);
    expect((usage?.used_bytes ?? 0) + (usage?.available_bytes ?? 0)).toBe(usage?.total_bytes);
    // header columns line up with the values (right-aligned numbers)
    expect(header?.indexOf('1024-blocks')).toBeGreaterThan(0);
    expect(line?.length).toBeGreaterThan(0);
  });

  it('without -P df adds the inode columns', async () => {
    expect((await bob.exec('df -k "$HOME"')).stdout.split('\n')[0]).toMatch(/Capacity +iused +ifree %iused {2}Mounted on$/);
  });

  it('models count against the disk: maestro (70b) uses more than a fresh Mac', async () => {
    const big = parseDfPk((await maestro.exec('df -Pk "$HOME"')).stdout);
    const empty = parseDfPk((await john.exec('df -Pk "$HOME"')).stdout);
    expect((big?.used_bytes ?? 0) - (empty?.used_bytes ?? 0)).toBeGreaterThan(40e9);
    const du = await maestro.exec('du -sk ~/.ollama/models');
    expect(Number(/^(\d+)\t/.exec(du.stdout)?.[1]) * 1024).toBeGreaterThan(40e9);
    expect((await maestro.exec('du -sh ~/.ollama/models')).stdout).toMatch(/^\d+G\t.*\.ollama\/models\n$/);
  });
});

describe('BSD text and file tools (what a script written on Linux trips over)', () => {
  it('wc pads each count as " %7d"; -c and -m are exclusive, the last wins', async () => {
    expect((await bob.exec("printf 'abc\\n' > ~/wc.txt; wc -c < ~/wc.txt; wc -l ~/wc.txt; wc -lc ~/wc.txt")).stdout)
      .toBe(`       4\n       1 ${bob.paths.home}/wc.txt\n       1       4 ${bob.paths.home}/wc.txt\n`);
    expect(await bob.exec('wc --bytes ~/wc.txt')).toMatchObject({ code: 1, stderr: 'wc: illegal option -- -\nusage: wc [-Lclmw] [file ...]\n' });
  });

  it('find wants a path first and knows only BSD primaries', async () => {
    expect((await bob.exec('find -name wc.txt')).stderr).toMatch(/^find: illegal option -- n\nusage: find /);
    expect(await bob.exec('find ~ -maxdepth 1 -name wc.txt -printf %s')).toMatchObject({ code: 1, stderr: 'find: -printf: unknown primary or operator\n' });
    expect((await bob.exec('cd ~ && find . -maxdepth 1 -type f -name wc.txt -exec wc -c {} +')).stdout).toBe('       4 ./wc.txt\n');
  });

  it("sed -i takes a backup suffix as its next argument: GNU's form fails, BSD's works", async () => {
    expect((await bob.exec("sed -i 's/abc/xyz/' ~/wc.txt")).code).not.toBe(0);
    expect((await bob.exec("sed -i '' -e 's/abc/xyz/' ~/wc.txt && cat ~/wc.txt")).stdout).toBe('xyz\n');
    expect((await bob.exec("sed -i .bak 's/xyz/abc/' ~/wc.txt && cat ~/wc.txt ~/wc.txt.bak")).stdout).toBe('abc\nxyz\n');
    expect(await bob.exec('sed --version')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^sed: illegal option -- -\n/) as unknown });
  });

  it('stat -f with BSD conversions; GNU -c is an illegal option', async () => {
    expect((await bob.exec('chmod 640 ~/wc.txt && stat -f "%z %Lp %Sp %N" ~/wc.txt')).stdout).toBe(`4 640 -rw-r----- ${bob.paths.home}/wc.txt\n`);
    expect(await bob.exec('stat -c %s ~/wc.txt')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^stat: illegal option -- c\nusage: stat /) as unknown });
  });

  it('date has no -d; head and tail take the historical -N; GNU long options are refused', async () => {
    expect(await bob.exec('date -d @0')).toMatchObject({ code: 1 });
    expect((await bob.exec('date -u -r 0 +%Y-%m-%dT%H:%M:%SZ')).stdout).toBe('1970-01-01T00:00:00Z\n');
    expect((await bob.exec("printf '1\\n2\\n3\\n' > ~/n.txt; head -1 ~/n.txt; tail -1 ~/n.txt")).stdout).toBe('1\n3\n');
    expect(await bob.exec('head --lines=1 ~/n.txt')).toMatchObject({ code: 1, stderr: 'head: invalid option -- -\nusage: head [-n lines | -c bytes] [file ...]\n' });
    expect(await bob.exec('mkdir --parents ~/a/b')).toMatchObject({ code: 64 });
    await bob.exec('rm -f ~/wc.txt ~/wc.txt.bak ~/n.txt');
  });
});

describe('network', () => {
  it('ipconfig getifaddr en0 is the node address; an interface without one prints nothing, exit 1', async () => {
    const en0 = await bob.exec('ipconfig getifaddr en0');
    expect(parseIfAddr(en0.stdout, en0.code)).toBe(bob.ip);
    expect(await bob.exec('ipconfig getifaddr en1')).toEqual({ stdout: '', stderr: '', code: 1 });
  });

  it('curl localhost:11434 inside the node reaches the node\'s own Ollama', async () => {
    const r = await bob.exec('curl -s localhost:11434/api/version; echo; curl -s http://127.0.0.1:11434/');
    expect(r.stdout).toBe('{"version":"0.12.6"}\nOllama is running');
  });

  it('curl to anything off loopback fails like a machine without a route, without sending a packet', async () => {
    const name = await bob.exec('curl -sS -m 2 https://example.com/');
    expect(name).toEqual({ stdout: '', stderr: 'curl: (6) Could not resolve host: example.com\n', code: 6 });
    const ip = await bob.exec('curl -s -m 2 http://192.168.7.7:8765/api/health; echo "rc=$?"');
    expect(ip.stdout).toBe('rc=7\n');
    // each refusal is on the fleet's record of what tried to leave
    expect(provisioned.fleet.egressAttempts().map((a) => a.target)).toEqual(['https://example.com/', 'http://192.168.7.7:8765/api/health']);
  });

  it("Bob's fleet.yaml address reaches the simulated Bob, from the node's own address", async () => {
    const r = await bob.exec(`curl -s -m 2 -X POST -d '{"node_id":"bob"}' http://192.168.1.10:8765/api/heartbeat`);
    expect(r.stdout).toBe('{"status":"ok"}\n');
    expect(provisioned.fleet.registryCalls().at(-1)).toMatchObject({ path: '/api/heartbeat', from: bob.ip, body: { node_id: 'bob' } });
  });

  it('a script that calls the host\'s curl itself is sent to the egress trap, and refused', async () => {
    const r = await bob.exec('/usr/bin/curl -s -o /dev/null -w "%{http_code}" http://198.51.100.7/x');
    expect(r.stdout).toBe('403');
    expect(provisioned.fleet.egressAttempts().some((a) => a.method === 'GET' && a.target === 'http://198.51.100.7/x')).toBe(true);
  });
});

describe('launchd', () => {
  const label = 'com.symphony.ollama';
  const plist = '~/Library/LaunchAgents/com.symphony.ollama.plist';

  it('launchctl list: the tab-separated table with the agent running', async () => {
    const r = await bob.exec('launchctl list');
    expect(r.stdout.split('\n')[0]).toBe('PID\tStatus\tLabel');
    const row = parseLaunchctlList(r.stdout).find((x) => x.label === label);
    expect(row?.pid).toBeGreaterThan(0);
    expect(row?.status).toBe(0);
  });

  it('launchctl list LABEL: a block when loaded, exit 113 when not', async () => {
    const loaded = await bob.exec(`launchctl list ${label}`);
    expect(loaded.stdout).toMatch(/^\{\n[\s\S]*\t"Label" = "com\.symphony\.ollama";\n[\s\S]*\t"PID" = \d+;\n[\s\S]*\};\n$/);
    expect(parseLaunchctlLabel(loaded.stdout, loaded.code, label)).toMatchObject({ loaded: true, last_exit: 0 });
    const missing = await john.exec(`launchctl list ${label}`);
    expect(missing).toEqual({ stdout: '', stderr: `Could not find service "${label}" in domain for port\n`, code: 113 });
    expect(parseLaunchctlLabel(missing.stdout, missing.code, label, missing.stderr)).toEqual({ loaded: false, pid: null, last_exit: null });
  });

  it('bootstrap of a loaded agent: 5: Input/output error; bootout of an unloaded one: 3: No such process', async () => {
    const again = await bob.exec(`launchctl bootstrap gui/501 ${plist}`);
    expect(again).toEqual({ stdout: '', stderr: 'Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors.\n', code: 5 });
    const load = await bob.exec(`launchctl load -w ${plist}`);
    expect(load).toEqual({ stdout: '', stderr: 'Load failed: 37: Operation already in progress\n', code: 37 });
    expect(await john.exec(`launchctl bootout gui/501/${label}`)).toEqual({ stdout: '', stderr: 'Boot-out failed: 3: No such process\n', code: 3 });
  });

  it('bootout stops Ollama; bootstrap starts it with the plist environment; kickstart -k restarts it', async () => {
    const before = parseLaunchctlList((await bob.exec('launchctl list')).stdout).find((x) => x.label === label)?.pid;
    expect((await bob.exec(`launchctl bootout gui/$(id -u)/${label}`)).code).toBe(0);
    expect(bob.serving()).toBeUndefined();
    expect((await bob.exec('curl -s localhost:11434/api/version; echo "rc=$?"')).stdout).toBe('rc=7\n');
    expect((await bob.exec(`launchctl bootstrap gui/$(id -u) ${plist}`)).code).toBe(0);
    expect(bob.serving()).toMatchObject({ external: true, env: { OLLAMA_HOST: '0.0.0.0', OLLAMA_KEEP_ALIVE: '24h' } });
    const res = await fetch(`http://${bob.ip}:${bob.ollamaPort()}/api/version`);
    expect(await res.json()).toEqual({ version: '0.12.6' });
    expect((await bob.exec(`launchctl kickstart -k gui/501/${label}`)).code).toBe(0);
    const after = parseLaunchctlList((await bob.exec('launchctl list')).stdout).find((x) => x.label === label)?.pid;
    expect(after).not.toBe(before);
    expect(await john.exec(`launchctl kickstart -k gui/501/${label}`)).toEqual({ stdout: '', stderr: `Could not find service "${label}" in domain for port\n`, code: 113 });
  });

  it('an agent without OLLAMA_HOST=0.0.0.0 serves only the node itself', async () => {
    const local = plist.replace('com.symphony.ollama', 'local.ollama');
    await bob.exec(`launchctl bootout gui/501/${label}`);
    const write = `sed -e 's/com.symphony.ollama/local.ollama/' -e 's/0\\.0\\.0\\.0/127.0.0.1/' ${plist} > ${local}`;
    expect((await bob.exec(write)).code).toBe(0);
    try {
      expect((await bob.exec(`launchctl bootstrap gui/501 ${local}`)).code).toBe(0);
      expect(bob.serving()).toMatchObject({ loopback: true, external: false });
      expect((await bob.exec('curl -s localhost:11434/api/version')).stdout).toBe('{"version":"0.12.6"}');
      await expect(fetch(`http://${bob.ip}:${bob.ollamaPort()}/api/version`)).rejects.toThrow();
    } finally {
      await bob.exec(`launchctl bootout gui/501/local.ollama; rm -f ${local}; launchctl bootstrap gui/501 ${plist}`);
    }
    expect(bob.serving()?.external).toBe(true);
  });

  it('a second Ollama agent cannot bind and records the error', async () => {
    const r = await bob.exec('"${FLEET_ROOT-}/opt/homebrew/bin/brew" services start ollama; launchctl list | grep ollama; tail -1 ~/.symphony/logs/ollama_error.log; "${FLEET_ROOT-}/opt/homebrew/bin/brew" services list');
    expect(r.stdout).toContain('==> Successfully started `ollama` (label: homebrew.mxcl.ollama)');
    const rows = parseLaunchctlList(r.stdout);
    expect(rows.find((x) => x.label === 'homebrew.mxcl.ollama')).toMatchObject({ pid: null, status: 1 });
    expect(parseBrewServices(r.stdout.slice(r.stdout.indexOf('Name')))).toEqual({ ollama: 'error' });
    // the probe reads launchd instead of brew, and must come to the same status
    const agent = await bob.exec('launchctl list homebrew.mxcl.ollama');
    expect(brewServiceStatus(parseLaunchctlLabel(agent.stdout, agent.code, 'homebrew.mxcl.ollama', agent.stderr))).toBe('error');
    await bob.exec('"${FLEET_ROOT-}/opt/homebrew/bin/brew" services stop ollama');
  });

  it('plutil -lint: OK for a good plist, the reason and exit 1 for a broken one; -convert json', async () => {
    expect(await bob.exec(`cd ~/Library/LaunchAgents && plutil -lint ${label}.plist`)).toEqual({ stdout: `${label}.plist: OK\n`, stderr: '', code: 0 });
    const broken = await bob.exec("printf '<?xml version=\"1.0\"?>\\n<plist version=\"1.0\">\\n<dict>\\n<key>Label</key>\\n</dict>\\n</plist>\\n' > bad.plist; plutil -lint bad.plist");
    expect(broken).toEqual({ stdout: 'bad.plist: Value missing for key inside <dict> at line 4\n', stderr: '', code: 1 });
    const json = await bob.exec(`plutil -convert json -o - ${plist}`);
    expect(JSON.parse(json.stdout)).toMatchObject({ Label: label, ProgramArguments: ['/opt/homebrew/bin/ollama', 'serve'], RunAtLoad: true, KeepAlive: true });
    expect((await bob.exec(`plutil -extract EnvironmentVariables.OLLAMA_HOST raw -o - ${plist}`)).stdout).toBe('0.0.0.0\n');
  });
});

describe('cron', () => {
  it('crontab -l on a fresh Mac: "no crontab for USER", exit 1; crontab - installs the table', async () => {
    const none = await john.exec('crontab -l');
    expect(none).toEqual({ stdout: '', stderr: 'crontab: no crontab for john\n', code: 1 });
    expect(parseCrontab(none.stdout, none.code, none.stderr)).toEqual([]);
    expect((await john.exec("printf '%s\\n' '* * * * * bash ~/.symphony/heartbeat.sh' | crontab -")).code).toBe(0);
    const one = await john.exec('crontab -l');
    expect(parseCrontab(one.stdout, one.code)).toEqual(['* * * * * bash ~/.symphony/heartbeat.sh']);
    const bad = await john.exec("printf 'x y\\n' | crontab -");
    expect(bad).toEqual({ stdout: '', stderr: '"-":1: bad minute\ncrontab: errors in crontab file, can\'t install\n', code: 1 });
    expect(parseCrontab((await john.exec('crontab -l')).stdout, 0)).toHaveLength(1);
    expect((await john.exec('crontab -r; crontab -l')).code).toBe(1);
  });

  it('the fleet\'s cron runs the entries that are due, in the node\'s environment', async () => {
    expect((await john.exec("printf '%s\\n' '* * * * * hostname > ~/cron.out' '0 0 1 1 * echo never > ~/never.out' | crontab -")).code).toBe(0);
    john.runCron(new Date(2026, 5, 15, 12, 30));
    await expect.poll(() => john.exec('cat ~/cron.out').then((r) => r.stdout), { timeout: 10_000 }).toBe('Johns-Mac-mini.local\n');
    expect((await john.exec('test -e ~/never.out')).code).toBe(1);
    await john.exec('crontab -r; rm -f ~/cron.out');
  });

  it('a provisioned node has the heartbeat line, once', async () => {
    const r = await bob.exec('crontab -l');
    expect(parseCrontab(r.stdout, r.code)).toEqual(['* * * * * bash ~/.symphony/heartbeat.sh']);
  });
});

describe('Homebrew', () => {
  const brew = '"${FLEET_ROOT-}/opt/homebrew/bin/brew"';

  it('a fresh Mac has no brew; the installer refuses without sudo and works with it', async () => {
    expect((await john.exec(`test -x ${brew} || test -x "\${FLEET_ROOT-}/usr/local/bin/brew"`)).code).toBe(1);
    await john.setFault('sudo-password');
    const denied = await john.exec('NONINTERACTIVE=1 /bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"');
    await john.clearFault('sudo-password');
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('==> Running in non-interactive mode because `$NONINTERACTIVE` is set.');
    expect(denied.stderr).toBe('Need sudo access on macOS (e.g. the user john needs to be an Administrator)!\n');
    const ok = await john.exec('NONINTERACTIVE=1 /bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('==> Installation successful!');
    expect((await john.exec(`${brew} --prefix`)).stdout).toBe('/opt/homebrew\n');
  });

  it('brew list --versions: nothing and exit 1 when absent; install makes ollama exist', async () => {
    expect(await john.exec(`${brew} list --versions ollama`)).toEqual({ stdout: '', stderr: '', code: 1 });
    expect((await john.exec('test -x "${FLEET_ROOT-}/opt/homebrew/bin/ollama"')).code).toBe(1);
    expect((await john.exec(`NONINTERACTIVE=1 HOMEBREW_NO_AUTO_UPDATE=1 ${brew} install ollama`)).code).toBe(0);
    const listed = await john.exec(`${brew} list --versions ollama`);
    expect(listed).toEqual({ stdout: 'ollama 0.12.6\n', stderr: '', code: 0 });
    expect(parseBrewListVersions(listed.stdout)).toEqual({ ollama: '0.12.6' });
    const again = await john.exec(`${brew} install ollama`);
    expect(again.stdout).toBe('Warning: ollama 0.12.6 is already installed and up-to-date.\nTo reinstall 0.12.6, run:\n  brew reinstall ollama\n');
    expect((await john.exec('"${FLEET_ROOT-}/opt/homebrew/bin/ollama" --version')).stdout).toContain('0.12.6');
  });

  it('casks land in /Applications; unknown names fail like brew', async () => {
    expect((await john.exec(`${brew} install --cask google-chrome && test -d "\${FLEET_ROOT-}/Applications/Google Chrome.app"`)).code).toBe(0);
    expect(parseBrewListVersions((await john.exec(`${brew} list --cask --versions`)).stdout)).toEqual({ 'google-chrome': '131.0.6778.205' });
    expect(await john.exec(`${brew} install --cask nosuchcask`)).toEqual({ stdout: '', stderr: "Error: Cask 'nosuchcask' is unavailable: No Cask with this name exists.\n", code: 1 });
    expect((await john.exec(`${brew} install nosuchformula`)).stderr).toBe('Error: No available formula with the name "nosuchformula".\n');
  });

  it('brew services start serves on localhost only (the Homebrew plist has no OLLAMA_HOST)', async () => {
    const r = await john.exec(`${brew} services start ollama && ${brew} services list`);
    expect(r.stdout).toBe('==> Successfully started `ollama` (label: homebrew.mxcl.ollama)\nName   Status  User File\nollama started john ~/Library/LaunchAgents/homebrew.mxcl.ollama.plist\n');
    expect(john.serving()).toMatchObject({ loopback: true, external: false });
    const viaLaunchd = async (): Promise<string | null> => {
      const a = await john.exec('launchctl list homebrew.mxcl.ollama');
      return brewServiceStatus(parseLaunchctlLabel(a.stdout, a.code, 'homebrew.mxcl.ollama', a.stderr));
    };
    expect(await viaLaunchd()).toBe('started');
    expect((await john.exec('curl -s 127.0.0.1:11434/api/tags')).stdout).toBe('{"models":[]}');
    const stopped = await john.exec(`${brew} services stop ollama && ${brew} services list --json`);
    expect(parseBrewServices(stopped.stdout.slice(stopped.stdout.indexOf('[')))).toEqual({ ollama: 'none' });
    expect(await viaLaunchd()).toBe('none');
    expect(john.serving()).toBeUndefined();
  });
});

describe('ollama serve by hand', () => {
  it('serves the node\'s localhost only, and stops when the process ends', async () => {
    const ollama = '"${FLEET_ROOT-}"/opt/homebrew/bin/ollama';
    const install = 'NONINTERACTIVE=1 /bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)" && "${FLEET_ROOT-}"/opt/homebrew/bin/brew install ollama';
    expect((await john.exec(`test -x ${ollama} || { ${install}; } >/dev/null`)).code).toBe(0);
    expect((await john.exec(`${ollama} serve > ~/serve.log 2>&1 & echo $! > ~/serve.pid`)).code).toBe(0);
    await expect.poll(() => john.exec('curl -s localhost:11434/api/version').then((r) => r.stdout), { timeout: 10_000 }).toBe('{"version":"0.12.6"}');
    expect(john.serving()).toMatchObject({ loopback: true, external: false });
    expect((await john.exec(`${ollama} serve`)).stderr).toMatch(/^Error: listen tcp 127\.0\.0\.1:11434: bind: address already in use/);
    await john.exec('kill "$(cat ~/serve.pid)"');
    await expect.poll(() => john.serving(), { timeout: 10_000 }).toBeUndefined();
  });
});

describe('clock', () => {
  it('date +%s is the host clock, shifted under clock-skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(Math.abs(Number((await john.exec('date +%s')).stdout) - now)).toBeLessThan(5);
    await john.setFault('clock-skew', { seconds: -3600 });
    try {
      expect(Number((await john.exec('date +%s')).stdout) - now).toBeLessThan(-3590);
      expect((await john.exec('date -u +%Y-%m-%dT%H:%M:%SZ')).stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    } finally {
      await john.clearFault('clock-skew');
    }
  });
});

describe('provisioned preset', () => {
  it('reproduces today\'s files: ollama.env with three lines and the launchd agent', () => {
    expect(readFileSync(join(bob.paths.home, '.ollama', 'ollama.env'), 'utf8')).toBe('OLLAMA_HOST=0.0.0.0\nOLLAMA_KEEP_ALIVE=24h\nOLLAMA_MAX_LOADED_MODELS=2\n');
    const registration = JSON.parse(readFileSync(join(bob.paths.home, '.symphony', 'registry', 'self_registration.json'), 'utf8')) as Record<string, unknown>;
    expect(registration).toMatchObject({ node_id: 'bob', role: 'hq', hostname: 'bob.local', services: { ollama: true, ollama_port: 11434, docker: true, harpa: true } });
  });

  it('stagehand (browser_node) has Chrome and no Ollama', async () => {
    const stagehand = provisioned.fleet.node('stagehand');
    const r = await stagehand.exec('"${FLEET_ROOT-}/usr/local/bin/brew" list --versions; test -x "${FLEET_ROOT-}/usr/local/bin/ollama"; echo "ollama=$?"');
    expect(r.stdout).toBe('google-chrome 131.0.6778.205\nollama=1\n');
    expect(stagehand.serving()).toBeUndefined();
  });
});
