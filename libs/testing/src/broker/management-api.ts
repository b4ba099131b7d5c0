/** A few calls of RabbitMQ's management HTTP API (plugin rabbitmq_management). */
export class ManagementApi {
  private readonly base: string;
  private readonly authorization: string;

  constructor(managementUrl: string) {
    const url = new URL(managementUrl);
    this.authorization = `Basic ${Buffer.from(
      `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
    ).toString('base64')}`;
    url.username = '';
    url.password = '';
    this.base = url.toString().replace(/\/$/, '');
  }

  async call<T = unknown>(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}/api${path}`, {
        method,
        headers: { authorization: this.authorization, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new Error(
        `RabbitMQ management API at ${this.base} is not reachable (${(error as Error).message}): ` +
          'enable it with `rabbitmq-plugins enable rabbitmq_management`',
      );
    }
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async createVhost(vhost: string, user: string): Promise<void> {
    await this.call('PUT', `/vhosts/${encodeURIComponent(vhost)}`, {});
    await this.call('PUT', `/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    });
  }

  async deleteVhost(vhost: string): Promise<void> {
    await this.call('DELETE', `/vhosts/${encodeURIComponent(vhost)}`).catch(() => undefined);
  }

  async vhostNames(): Promise<string[]> {
    const vhosts = await this.call<{ name: string }[]>('GET', '/vhosts');
    return vhosts.map((vhost) => vhost.name);
  }

  /** Queue definition; its statistics lag by a few seconds, so count messages over AMQP instead. */
  async queue(vhost: string, name: string): Promise<{ arguments: Record<string, unknown> }> {
    return this.call('GET', `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`);
  }
}
