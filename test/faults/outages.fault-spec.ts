import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumeMessage } from 'amqplib';
import { eventually } from '@pacslink/testing';
import { BrokerClient } from './support/broker-client';
import { settleCase, type CaseTransfer } from './support/end-state';
import { faultSuite } from './support/fault-suite';

// Outages of what the services depend on: config-service itself, Postgres, RabbitMQ, each while
// transfers are under way (docs/testing/fault-suite.md).
const suite = faultSuite({ suite: 'outages', configServiceEnv: { TRANSFER_RETRY_BASE_MS: '500' } });

/** Issue 10: "config-service down for two minutes mid-transfer" (shorter only to try the case out). */
const CONFIG_SERVICE_DOWN_MS = Number(process.env.FAULTS_CONFIG_SERVICE_DOWN_MS ?? 120_000);
/** Issue 10: the broker and the database are each cut for 30 s. */
const LINK_CUT_MS = Number(process.env.FAULTS_LINK_CUT_MS ?? 30_000);

/**
 * Resolves once a batch command of `transferId` was published: the moment its claim is on its way,
 * which is when an outage hurts most (the worker has the command, config-service must answer).
 */
async function whenDispatched(broker: BrokerClient, transferId: () => string | undefined) {
  let seen: () => void = () => undefined;
  const dispatched = new Promise<void>((resolve) => (seen = resolve));
  const untap = await broker.tapCommands('#.export-batch', (message: ConsumeMessage) => {
    const { data } = JSON.parse(message.content.toString('utf8')) as { data: { transferId: string } };
    if (data.transferId === transferId()) seen();
  });
  return { dispatched, untap };
}

it('config-service down for two minutes mid-transfer', async () => {
  const { stack } = suite;
  const kit = suite.kit();
  const { broker } = stack;
  let stowTransferId: string | undefined;
  const tap = await whenDispatched(broker, () => stowTransferId);
  try {
    const dimse = await kit.dimseOrthanc({ maxAssociations: 1, responseDelayMs: 50 });
    const stow = await kit.stowOrthanc({ responseDelayMs: 1_000 });
    const studies = [
      await kit.study({ series: 2, instancesPerSeries: 40, instanceBytes: 20_000 }),
      await kit.study({ series: 2, instancesPerSeries: 20, instanceBytes: 20_000 }),
      await kit.study({ series: 2, instancesPerSeries: 20, instanceBytes: 20_000 }),
    ];
    const transfers: CaseTransfer[] = [
      await kit.export(dimse, studies[0]),
      await kit.export(dimse, studies[1]),
    ];
    await dimse.probe?.sent(10);
    const stowTransfer = await kit.export(stow, studies[2]);
    stowTransferId = stowTransfer.id;
    transfers.push(stowTransfer);
    // Both replicas die the moment the STOW-RS batches go out: their claims find nobody.
    await tap.dispatched;
    await Promise.all(stack.live('config-service').map((replica) => replica.kill()));
    await sleep(CONFIG_SERVICE_DOWN_MS);
    await Promise.all([stack.startReplica('config-service'), stack.startReplica('config-service')]);
    await settleCase(stack, {
      name: `config-service down for ${CONFIG_SERVICE_DOWN_MS / 1000} s mid-transfer (both replicas SIGKILLed as batches went out)`,
      transfers,
      faultEndedAt: Date.now(),
      waitMs: 240_000,
    });
  } finally {
    await tap.untap();
    await kit.close();
  }
});

it('Postgres cut for 30 s mid-transfer', async () => {
  const { stack } = suite;
  const kit = suite.kit();
  const { broker } = stack;
  let stowTransferId: string | undefined;
  const tap = await whenDispatched(broker, () => stowTransferId);
  try {
    const dimse = await kit.dimseOrthanc({ maxAssociations: 1, responseDelayMs: 50 });
    const storescp = await kit.storescp({ maxAssociations: 1, responseDelayMs: 50 });
    const stow = await kit.stowOrthanc({ responseDelayMs: 1_000 });
    const transfers: CaseTransfer[] = [];
    for (const pacs of [dimse, dimse, storescp, storescp]) {
      transfers.push(
        await kit.export(pacs, await kit.study({ series: 2, instancesPerSeries: 40, instanceBytes: 20_000 })),
      );
    }
    await dimse.probe?.sent(10);
    await storescp.probe?.sent(10);
    const stowTransfer = await kit.export(
      stow,
      await kit.study({ series: 2, instancesPerSeries: 20, instanceBytes: 20_000 }),
    );
    stowTransferId = stowTransfer.id;
    transfers.push(stowTransfer);
    // Running batches keep reporting progress, and the STOW-RS batches' claims arrive, into a cut.
    await tap.dispatched;
    await stack.databaseLink.cut();
    await sleep(LINK_CUT_MS);
    await stack.databaseLink.restore();
    await settleCase(stack, {
      name: `Postgres cut for ${LINK_CUT_MS / 1000} s mid-transfer`,
      transfers,
      faultEndedAt: Date.now(),
      waitMs: 240_000,
    });
  } finally {
    await stack.databaseLink.restore();
    await tap.untap();
    await kit.close();
  }
});

it('broker cut for 30 s during a burst of 200 small transfers to four PACS', async () => {
  const { stack } = suite;
  const kit = suite.kit();
  try {
    const pacs = [
      await kit.dimseOrthanc({ maxAssociations: 2 }),
      await kit.stowOrthanc(),
      await kit.storescp({ maxAssociations: 1 }),
      await kit.storescp({ maxAssociations: 1 }),
    ];
    const studies = [];
    for (let i = 0; i < 200; i++)
      studies.push(await kit.study({ series: 1, instancesPerSeries: 2, instanceBytes: 5_000 }));
    const transfers: CaseTransfer[] = [];
    const queue = studies.map((study, i) => ({ study, pacs: pacs[i % pacs.length] }));
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift())
          transfers.push(await kit.export(next.pacs, next.study));
      }),
    );
    // Cut while a good part of the burst is still being sent.
    await eventually(
      'a quarter of the burst to end',
      () =>
        transfers.filter(({ id }) => stack.events.terminal(id).length > 0).length >= 50 ? true : undefined,
      240_000,
    );
    await stack.brokerLink.cut();
    await sleep(LINK_CUT_MS);
    await stack.brokerLink.restore();
    await settleCase(stack, {
      name: `broker cut for ${LINK_CUT_MS / 1000} s during a burst of 200 transfers to four PACS`,
      transfers,
      faultEndedAt: Date.now(),
      waitMs: 300_000,
    });
  } finally {
    await stack.brokerLink.restore();
    await kit.close();
  }
});

it('broker connections dropped twice for a second while batches are being sent', async () => {
  const { stack } = suite;
  const kit = suite.kit();
  try {
    const pacs = [
      await kit.dimseOrthanc({ maxAssociations: 1, responseDelayMs: 100 }),
      await kit.storescp({ maxAssociations: 1, responseDelayMs: 100 }),
      await kit.stowOrthanc({ responseDelayMs: 3_000 }),
    ];
    const transfers: CaseTransfer[] = [];
    for (const target of [...pacs, ...pacs]) {
      transfers.push(
        await kit.export(
          target,
          await kit.study({ series: 1, instancesPerSeries: 40, instanceBytes: 10_000 }),
        ),
      );
    }
    for (const target of pacs) await target.probe?.sent(5);
    // The workers lose the broker while they send: their unacknowledged commands go back to the queue.
    for (let blip = 0; blip < 2; blip++) {
      await stack.brokerLink.cut();
      await sleep(1_000);
      await stack.brokerLink.restore();
      await sleep(5_000);
    }
    await settleCase(stack, {
      name: 'broker connections dropped twice for 1 s while batches are being sent',
      transfers,
      faultEndedAt: Date.now(),
      waitMs: 240_000,
    });
  } finally {
    await stack.brokerLink.restore();
    await kit.close();
  }
});
