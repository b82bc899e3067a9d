// The hardware catalog covers the Apple Silicon Macs people own: every Mac
// mini, MacBook Air, MacBook Pro, iMac and Mac Studio from M1 to M4, in their
// memory configurations, each with the hw.model `fleet add-node --detect`
// matches on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Hardware } from '../../reconciler/src/schema/fleet.ts';

const catalog = (parse(readFileSync(join(import.meta.dirname, '..', '..', 'fleet', 'catalog', 'hardware.yaml'), 'utf8')) as { hardware: Record<string, Hardware> }).hardware;
const apple = Object.entries(catalog).filter(([, h]) => h.architecture === 'arm64' && !(h.notes ?? '').startsWith('Not an Apple configuration'));

/** The memory sizes catalogued for a model name and chip. */
function rams(model: string): number[] {
  return apple.filter(([, h]) => h.model === model).map(([, h]) => h.ram_gb).sort((a, b) => a - b);
}

describe('fleet/catalog/hardware.yaml', () => {
  it.each([
    ['Mac mini M1', [8, 16]], ['Mac mini M2', [8, 16, 24]], ['Mac mini M2 Pro', [16, 32]], ['Mac mini M4', [16, 24, 32]], ['Mac mini M4 Pro', [24, 48, 64]],
    ['MacBook Air 13-inch M1', [8, 16]], ['MacBook Air 13-inch M2', [8, 16, 24]], ['MacBook Air 15-inch M3', [8, 16, 24]], ['MacBook Air 13-inch M4', [16, 24, 32]],
    ['MacBook Pro 13-inch M2', [8, 16, 24]], ['MacBook Pro 14-inch M2 Pro', [16, 32]], ['MacBook Pro 16-inch M2 Max', [32, 64, 96]],
    ['MacBook Pro 14-inch M3 Pro', [18, 36]], ['MacBook Pro 16-inch M3 Max', [36, 48, 64, 128]], ['MacBook Pro 14-inch M4', [16, 24, 32]], ['MacBook Pro 16-inch M4 Max', [36, 48, 64, 128]],
    ['iMac 24-inch M1', [8, 16]], ['iMac 24-inch M3', [8, 16, 24]], ['iMac 24-inch M4', [16, 24, 32]],
    ['Mac Studio M1 Ultra', [64, 128]], ['Mac Studio M2 Ultra', [64, 128, 192]], ['Mac Studio M4 Max', [36, 48, 64, 128]], ['Mac Studio M3 Ultra', [96, 256, 512]],
  ])('%s in %j GB', (model, sizes) => {
    expect(rams(model)).toEqual(sizes);
  });

  it('covers M1 to M4 in every family', () => {
    for (const family of ['Mac mini', 'MacBook Air', 'MacBook Pro', 'iMac', 'Mac Studio']) {
      const chips = new Set(apple.filter(([, h]) => h.model.startsWith(family)).map(([, h]) => /M[1-4]/.exec(h.chip)?.[0]));
      // Apple made no M3 Mac mini and no M2 iMac; the Mac Studio has an M3 Ultra and an M4 Max.
      const none: Record<string, string> = { 'Mac mini': 'M3', iMac: 'M2' };
      expect([...chips].sort(), family).toEqual(['M1', 'M2', 'M3', 'M4'].filter((c) => none[family] !== c));
    }
  });

  it('every Apple Silicon entry has a chip as sysctl prints it, a hw.model, Metal, and one entry per hw.model and memory size', () => {
    const seen = new Map<string, string>();
    for (const [id, h] of apple) {
      expect(h.chip, id).toMatch(/^Apple M[1-4]( Pro| Max| Ultra)?$/);
      expect(h.hw_model, id).toMatch(/^(Mac|Macmini|MacBookAir|MacBookPro|iMac)\d+,\d+$/);
      expect(h.metal, id).toBe(true);
      expect(id, id).toMatch(new RegExp(`-${h.ram_gb}gb$`));
      const key = `${h.hw_model ?? ''}/${h.ram_gb}`;
      expect(seen.get(key), `${id} and ${seen.get(key) ?? ''} are the same configuration`).toBeUndefined();
      seen.set(key, id);
    }
  });
});
