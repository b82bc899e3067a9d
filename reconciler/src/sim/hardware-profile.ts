// What a simulated node reports about its hardware, derived from a hardware
// catalog entry (fleet/catalog/hardware.yaml). The sh stand-ins (sysctl,
// system_profiler, sw_vers, df) read these as SIM_* variables in node.env.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Hardware } from '../schema/fleet.ts';
import { FleetError } from '../errors.ts';

export interface OsRelease {
  version: string;
  build: string;
  darwin: string;
}

export const DEFAULT_OS: OsRelease = { version: '15.3.1', build: '24D70', darwin: '24.3.0' };

/** Reads the hardware catalog without the full fleet loader (the sim only needs this file). */
export function readHardwareCatalog(path: string): Record<string, Hardware> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FleetError('invalid-fleet', `cannot read the hardware catalog ${path}: ${(err as Error).message}`, { cause: err });
  }
  const hardware = (doc as { hardware?: unknown } | null)?.hardware;
  if (typeof hardware !== 'object' || hardware === null) {
    throw new FleetError('invalid-fleet', `${path}: expected a top-level "hardware:" map of hardware ids`);
  }
  return hardware as Record<string, Hardware>;
}

export function modelNameOf(model: string): string {
  const m = model.toLowerCase();
  if (m.includes('mini')) return 'Mac mini';
  if (m.includes('studio')) return 'Mac Studio';
  if (m.includes('imac')) return 'iMac';
  if (m.includes('macbook pro')) return 'MacBook Pro';
  if (m.includes('macbook air')) return 'MacBook Air';
  if (m.includes('mac pro')) return 'Mac Pro';
  return model;
}

function defaultNcpu(hw: Hardware): number {
  const chip = hw.chip.toLowerCase();
  if (hw.architecture === 'arm64') {
    if (chip.includes('ultra')) return 32;
    if (chip.includes('max')) return 16;
    if (chip.includes('pro')) return chip.includes('m4') ? 14 : 12;
    return chip.includes('m4') ? 10 : 8;
  }
  if (chip.includes('i9')) return 16;
  if (chip.includes('i7')) return 12;
  return 6;
}

function defaultHwModel(hw: Hardware): string {
  const name = modelNameOf(hw.model);
  if (hw.architecture === 'x86_64') return name === 'iMac' ? 'iMac19,1' : 'Macmini8,1';
  if (name === 'Mac Studio') return 'Mac16,9';
  if (name === 'MacBook Pro') return 'Mac16,1';
  const chip = hw.chip.toLowerCase();
  if (chip.includes('m4')) return chip.includes('pro') ? 'Mac16,11' : 'Mac16,10';
  return 'Mac14,3';
}

/** Facts as node.env variables (values are plain strings; the writer quotes them). */
export function describeHardware(hw: Hardware, nodeName: string, os: OsRelease = DEFAULT_OS): Record<string, string> {
  const ncpu = hw.ncpu ?? defaultNcpu(hw);
  const arm = hw.architecture === 'arm64';
  const i5 = /i5/i.test(hw.chip);
  const physcpu = arm || i5 ? ncpu : Math.max(1, Math.floor(ncpu / 2));
  const pcores = ncpu <= 10 ? Math.min(4, ncpu) : ncpu - (ncpu >= 32 ? 8 : 4);
  const family = /\b(i[3579])\b/i.exec(hw.chip)?.[1] ?? 'i7';
  const ghz = /@\s*([0-9.]+)\s*GHz/i.exec(hw.chip)?.[1];
  const digest = createHash('sha256').update(`sim-node:${nodeName}`).digest('hex');
  const uuid = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`.toUpperCase();
  const serial = `C02${BigInt(`0x${digest.slice(32, 48)}`).toString(36).toUpperCase().padStart(9, 'X').slice(0, 9)}`;
  const totalKb = Math.floor((hw.storage_gb * 1e9) / 1024);
  return {
    SIM_ARCH: hw.architecture,
    SIM_HW_MODEL_NAME: modelNameOf(hw.model),
    SIM_HW_MODEL_ID: hw.hw_model ?? defaultHwModel(hw),
    SIM_HW_CHIP: hw.chip,
    SIM_HW_MEMSIZE: String(hw.ram_gb * 2 ** 30),
    SIM_HW_RAM_GB: String(hw.ram_gb),
    SIM_HW_NCPU: String(ncpu),
    SIM_HW_PHYSCPU: String(physcpu),
    SIM_HW_PCORES: String(pcores),
    SIM_HW_ECORES: String(ncpu - pcores),
    SIM_HW_PROCESSOR_NAME: `${physcpu}-Core Intel Core ${family}`,
    SIM_HW_CPU_SPEED: `${ghz ? String(Number(ghz)) : '3.6'} GHz`,
    SIM_OS_VERSION: os.version,
    SIM_OS_BUILD: os.build,
    SIM_DARWIN: os.darwin,
    SIM_FIRMWARE: arm ? '11881.81.4' : '2075.100.3.0.3',
    SIM_SERIAL: serial,
    SIM_UUID: uuid,
    SIM_DISK_TOTAL_KB: String(totalKb),
    // macOS, apps and caches on a lived-in Mac: ~22 GB
    SIM_DISK_BASE_USED_KB: String(Math.min(Math.floor(22e9 / 1024), Math.floor(totalKb / 2))),
  };
}
