// Per-node Prometheus series, read from the dashboard's view at scrape time
// (so an age is as old as the scrape, not the last reconcile): node up, Ollama
// up, models present and loaded, memory loaded, disk free, heartbeat age; and
// pull bytes per node, counted as the bytes arrive.
import { Counter, Gauge } from 'prom-client';
import type { ProgressSink } from '../apply/context.ts';
import type { NodeCard } from '../dashboard/fleet-view.ts';
import type { FleetMetrics } from './metrics.ts';

export interface NodeMetricsOptions {
  prefix?: string;
  /** The cards as they are now. */
  cards(): readonly NodeCard[];
}

/** Registers the per-node series on the daemon's registry; returns the sink that counts pull bytes. */
export function addNodeMetrics(metrics: FleetMetrics, options: NodeMetricsOptions): ProgressSink {
  const prefix = options.prefix ?? 'fleet_';
  const registers = [metrics.registry];
  const labelNames = ['node'] as const;
  const gauges = {
    // Its collect runs first at every scrape and fills every gauge here.
    up: new Gauge({ name: `${prefix}node_up`, help: '1 when Bob reached the node over SSH at the last observation.', labelNames, registers, collect: () => fill() }),
    ollamaUp: new Gauge({ name: `${prefix}node_ollama_up`, help: '1 when the node\'s Ollama answered Bob at the last observation (nodes whose role runs Ollama).', labelNames, registers }),
    present: new Gauge({ name: `${prefix}node_models_present`, help: 'Models on the node\'s disk (/api/tags).', labelNames, registers }),
    loaded: new Gauge({ name: `${prefix}node_models_loaded`, help: 'Models in memory now (/api/ps).', labelNames, registers }),
    memory: new Gauge({ name: `${prefix}node_memory_loaded_bytes`, help: 'VRAM held by loaded models (/api/ps size_vram).', labelNames, registers }),
    disk: new Gauge({ name: `${prefix}node_disk_free_bytes`, help: 'Free bytes on the volume holding ~/.ollama.', labelNames, registers }),
    heartbeat: new Gauge({ name: `${prefix}node_heartbeat_age_seconds`, help: 'Seconds since the node\'s last heartbeat reached Bob (absent: never).', labelNames, registers }),
  };
  const pullBytes = new Counter({ name: `${prefix}node_pull_bytes_total`, help: 'Bytes of model pulls received by the node, counted as they arrive.', labelNames, registers });
  function fill(): void {
    for (const g of Object.values(gauges)) g.reset();
    for (const c of options.cards()) {
      const node = { node: c.node };
      const observed = c.observed_at !== null;
      if (observed) gauges.up.set(node, c.address !== null ? 1 : 0);
      if (c.ollama.expected && c.ollama.up !== null) gauges.ollamaUp.set(node, c.ollama.up ? 1 : 0);
      if (c.address !== null) {
        gauges.present.set(node, c.models.present.length);
        gauges.loaded.set(node, c.models.loaded.length);
        gauges.memory.set(node, c.memory.loaded_bytes);
      }
      if (c.disk.available_bytes !== null) gauges.disk.set(node, c.disk.available_bytes);
      if (c.heartbeat.age_seconds !== null) gauges.heartbeat.set(node, c.heartbeat.age_seconds);
    }
  }
  const seen = new Map<string, number>();
  return {
    stepStarted(step) {
      if (step.kind === 'pull-model' && step.node !== null) seen.set(`${step.node}\u0000${step.model}`, 0);
    },
    stepFinished(step) {
      if (step.kind === 'pull-model' && step.node !== null) seen.delete(`${step.node}\u0000${step.model}`);
    },
    pullProgress(p) {
      const key = `${p.node}\u0000${p.model}`;
      const before = seen.get(key);
      if (before === undefined) return;
      if (p.completed > before) {
        pullBytes.inc({ node: p.node }, p.completed - before);
        seen.set(key, p.completed);
      }
    },
  };
}
