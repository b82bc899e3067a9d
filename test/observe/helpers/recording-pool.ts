// A ConnectionPool that notes, in order, when observe asked for each node's
// session, when that settled and when each probe came back: who waited for
// whom, read from the order of events rather than from a clock.
import type { ConnectionPool } from '../../../reconciler/src/observe/connections.ts';
import type { RemoteSession } from '../../../reconciler/src/net/remote.ts';

export interface RecordingPool {
  pool: ConnectionPool;
  /** 'asked:NODE', then 'ok:NODE' or 'STATUS:NODE' (the reach status), then 'probed:NODE' per exec. */
  events: string[];
}

export function recordingPool(inner: ConnectionPool): RecordingPool {
  const events: string[] = [];
  const watched = <T extends RemoteSession>(node: string, session: T): T => new Proxy(session, {
    get(target, key) {
      if (key === 'exec') {
        return async (...args: Parameters<RemoteSession['exec']>) => {
          const result = await target.exec(...args);
          events.push(`probed:${node}`);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    events,
    pool: {
      async session(node) {
        events.push(`asked:${node}`);
        const result = await inner.session(node);
        events.push(`${result.ok ? 'ok' : result.reach.status}:${node}`);
        return result.ok ? { ...result, session: watched(node, result.session) } : result;
      },
      target: (node) => inner.target(node),
      forget: (node) => inner.forget(node),
      close: () => inner.close(),
    },
  };
}
