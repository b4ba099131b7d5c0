import type { TestingModule } from '@nestjs/testing';
import { connect } from 'amqplib';
import { Exchanges, deadLetterQueueOf, type ConsumerQueue, type MessageContract } from '@pacslink/contracts';
import { createTestVhost, type TestVhost } from '@pacslink/testing';
import {
  ANSWER_LATER,
  MessageConsumer,
  RpcClient,
  RpcRemoteError,
  RpcTimeoutError,
  type ReplyAddress,
} from '../src';
import { PingData, createReplica } from './messaging-harness';

const RpcQueue: ConsumerQueue = {
  name: 'pacslink.test.rpc',
  exchange: Exchanges.Commands,
  bindingKeys: ['rpc.#'],
};
const Echo: MessageContract<PingData> = {
  type: 'rpc.echo',
  version: 1,
  kind: 'request',
  exchange: Exchanges.Commands,
  data: PingData,
};
const Unanswered: MessageContract<PingData> = { ...Echo, type: 'nobody.answers' };
const Later: MessageContract<PingData> = { ...Echo, type: 'rpc.later' };
const OtherQueue: ConsumerQueue = { ...RpcQueue, name: 'pacslink.test.rpc-other', bindingKeys: ['other.#'] };
const OtherEcho: MessageContract<PingData> = { ...Echo, type: 'other.echo' };

describe('request/reply over direct reply-to (real RabbitMQ)', () => {
  let vhost: TestVhost;
  let server: TestingModule;
  let client: TestingModule;
  let other: TestingModule;
  const held: ReplyAddress[] = [];

  beforeAll(async () => {
    vhost = await createTestVhost();
    server = await createReplica({ amqpUrl: vhost.url, messaging: { consumerQueues: [RpcQueue] } });
    server.get(MessageConsumer).answer(RpcQueue, Echo, async (data) => {
      if (data.text === 'fail') throw new Error('the PACS refused the association');
      if (data.text === 'slow') await new Promise((resolve) => setTimeout(resolve, 3_000));
      return { echoed: data.text, sequence: data.sequence + 1 };
    });
    // A held request: the handler keeps where the answer goes and answers nothing now.
    server.get(MessageConsumer).answer(RpcQueue, Later, (_data, context) => {
      if (context.replyAddress) held.push(context.replyAddress);
      return Promise.resolve(ANSWER_LATER);
    });
    await server.init();
    await server.get(MessageConsumer).attached();
    // Another replica, consuming a queue of its own: it never takes the held request.
    other = await createReplica({ amqpUrl: vhost.url, messaging: { consumerQueues: [OtherQueue] } });
    other.get(MessageConsumer).answer(OtherQueue, OtherEcho, (data) => Promise.resolve(data));
    await other.init();
    await other.get(MessageConsumer).attached();
    client = await createReplica({ amqpUrl: vhost.url, messaging: { consumerQueues: [] } });
    await client.init();
  });

  afterAll(async () => {
    await Promise.all([client.close(), server.close(), other.close()]);
    await vhost.drop();
  });

  it('answers with the handler result, and concurrent requests get their own answers', async () => {
    const rpc = client.get(RpcClient);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => rpc.request(Echo, { text: `hello ${i}`, sequence: i }, 5_000)),
    );
    expect(answers).toEqual(
      Array.from({ length: 10 }, (_, i) => ({ echoed: `hello ${i}`, sequence: i + 1 })),
    );
  });

  it('answers a held request later, from another replica, with the kept reply address', async () => {
    const asked = client.get(RpcClient).request(Later, { text: 'hold me', sequence: 0 }, 5_000);
    const answered = jest.fn();
    void asked.then(answered, answered);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(answered).not.toHaveBeenCalled();
    const [address] = held;
    expect(address?.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./);
    // Another replica answers it: any channel can publish to the asker's reply-to.
    await other.get(MessageConsumer).answerLater(address, { ok: true, result: { go: true } });
    await expect(asked).resolves.toEqual({ go: true });
  });

  it("carries the handler's error back to the caller", async () => {
    await expect(client.get(RpcClient).request(Echo, { text: 'fail', sequence: 0 }, 5_000)).rejects.toEqual(
      new RpcRemoteError('the PACS refused the association'),
    );
  });

  it('answers invalid request data with the validation problem, not silence', async () => {
    const request = client.get(RpcClient).request(Echo, { text: 'x', sequence: -5 }, 5_000);
    await expect(request).rejects.toThrow(/invalid rpc.echo: sequence: sequence must not be less than 0/);
  });

  it('gives up after the timeout when nobody answers, or the answer comes too late', async () => {
    const rpc = client.get(RpcClient);
    let started = Date.now();
    await expect(rpc.request(Unanswered, { text: 'anyone?', sequence: 0 }, 700)).rejects.toBeInstanceOf(
      RpcTimeoutError,
    );
    expect(Date.now() - started).toBeLessThan(1_500);
    started = Date.now();
    await expect(rpc.request(Echo, { text: 'slow', sequence: 0 }, 1_000)).rejects.toThrow(
      /no answer to rpc.echo within 1000 ms/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('leaves nothing in a dead-letter queue when requests wait out their consumer, and answers none late', async () => {
    const LaterQueue: ConsumerQueue = {
      name: 'pacslink.test.rpc-later',
      exchange: Exchanges.Commands,
      bindingKeys: ['later.#'],
    };
    const Later: MessageContract<PingData> = { ...Echo, type: 'later.echo' };
    // Declared by the asking side, as config-service declares the worker queues it commands.
    const asker = await createReplica({
      amqpUrl: vhost.url,
      messaging: { consumerQueues: [], commandQueues: [LaterQueue] },
    });
    await asker.init();
    const rpc = asker.get(RpcClient);
    try {
      // 2 s: the publish itself is bounded by the request's timeout, and on a loaded machine 300 ms
      // did not always see it out (the request was never queued: the count below read 0).
      await expect(rpc.request(Later, { text: 'nobody yet', sequence: 0 }, 2_000)).rejects.toBeInstanceOf(
        RpcTimeoutError,
      );
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // well past the request's timeout

      const broker = await connect(vhost.url);
      try {
        const channel = await broker.createChannel();
        // A broker expiration would have dead-lettered the request by now.
        expect((await channel.checkQueue(deadLetterQueueOf(LaterQueue.name))).messageCount).toBe(0);
        expect((await channel.checkQueue(LaterQueue.name)).messageCount).toBe(1);
      } finally {
        await broker.close();
      }
    } finally {
      await asker.close();
    }
  });
});
