import { readFile, readdir, readlink } from 'node:fs/promises';

/** Inodes of the TCP sockets (IPv4 and IPv6) whose local port is `port` and remote port `remotePort`. */
async function socketInodes(port: number, remotePort: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const local = parseInt(fields[1].split(':')[1], 16);
      const remote = parseInt(fields[2].split(':')[1], 16);
      if (local === port && remote === remotePort) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/**
 * Which of `pids` holds the client end of a connection to `serverPort` from `clientPort`: how the
 * suite finds the worker that is sending a batch through a probe, to kill that one (Linux /proc).
 */
export async function pidOfConnection(
  pids: readonly number[],
  clientPort: number,
  serverPort: number,
): Promise<number | undefined> {
  const inodes = await socketInodes(clientPort, serverPort);
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) return pid;
    }
  }
  return undefined;
}
