import './register-paths';
import {
  dropDatabasesWithPrefix,
  managementApi,
  stopPeers,
  testDatabasePrefix,
  testVhostPrefix,
} from '@pacslink/testing';
import { runState } from './run-state';

/** Removes everything this run created: its databases, its vhosts, the peers, any containers. */
export default async function globalTeardown(): Promise<void> {
  await dropDatabasesWithPrefix(testDatabasePrefix());
  const management = managementApi();
  for (const vhost of await management.vhostNames()) {
    if (vhost.startsWith(testVhostPrefix())) await management.deleteVhost(vhost);
  }
  if (runState.startedPeers && process.env.PEERS_KEEP !== '1') await stopPeers();
  await runState.stopServices?.();
}
