import { probeNode } from '../../packages/adapters/src/mysql/writer-node.js';

/**
 * Global setup of the `galera` project: it runs only against a Galera cluster named by
 * `CTLPLANE_GALERA_URLS` (`npm run cluster -- up` prints it), every node Synced. Without one the
 * project fails at once with the reason: `.ci/run` runs it only when the cluster script could start
 * the cluster, and says loudly when it skipped it.
 */
export default async function setup(): Promise<void> {
  const list = process.env.CTLPLANE_GALERA_URLS;
  if (!list) {
    throw new Error(
      'the galera project needs CTLPLANE_GALERA_URLS (comma-separated node URLs): run `npm run cluster -- up` and export the list it prints',
    );
  }
  const urls = list.split(',').map((u) => u.trim());
  const nodes = await Promise.all(urls.map((u, i) => probeNode(u, i, 5_000)));
  const bad = nodes.filter((n) => !n.ready).map((n) => `${urls[n.index]}: ${n.reason}`);
  if (bad.length > 0 || urls.length < 3) {
    throw new Error(
      `the galera project needs 3 Synced nodes; not ready: ${bad.join('; ') || `${urls.length} URLs`}`,
    );
  }
}
