import { log } from './log';
import type { BenchStudy } from './studies';

/**
 * What a row is compared with: C-STORE rows with storescu, STOW-RS rows with curl; imports (the
 * import benchmark) WADO-RS with a second Orthanc retrieving, C-GET with getscu, C-MOVE with movescu.
 */
export type ScenarioKind =
  | 'storescu'
  | 'curl'
  | 'cstore'
  | 'stow'
  | 'orthanc-wado'
  | 'getscu'
  | 'movescu'
  | 'wado'
  | 'cget'
  | 'cmove'
  | 'reference';

export interface RunDetail {
  /** pacslink: from POST /transfers to the `transfer.started` event. */
  startSeconds?: number;
}

export interface Scenario {
  name: string;
  kind: ScenarioKind;
  /** Least throughput ratio against the row's baseline (storescu or curl); none: reported only. */
  target?: number;
  study: BenchStudy;
  /** Untimed, before every run: e.g. delete the study from Orthanc. */
  prepare?: () => Promise<void>;
  /** The timed part. */
  run: () => Promise<RunDetail | void>;
  /** Untimed, after every run: that the run did what it claims (every instance arrived). */
  verify?: () => Promise<void>;
}

export interface Measurement {
  scenario: Scenario;
  seconds: number[];
  /** RunDetail.startSeconds of each run that reported it. */
  startSeconds: number[];
  /** Why the scenario could not be measured; its runs so far are discarded. */
  error?: string;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** One timed run: prepare and verify untimed around it. */
async function timedRun(scenario: Scenario): Promise<{ seconds: number; detail: RunDetail }> {
  await scenario.prepare?.();
  const started = process.hrtime.bigint();
  const detail = (await scenario.run()) ?? {};
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await scenario.verify?.();
  return { seconds, detail };
}

/**
 * Runs the scenarios in turns (run 1 of each, then run 2 of each, ...), so that a slow spell of a
 * shared machine hits the rows being compared alike. A failing scenario is recorded and dropped
 * from the later turns; the others go on.
 */
export async function measureInTurns(scenarios: readonly Scenario[], runs: number): Promise<Measurement[]> {
  const measurements: Measurement[] = scenarios.map((scenario) => ({
    scenario,
    seconds: [],
    startSeconds: [],
  }));
  for (let run = 1; run <= runs; run++) {
    for (const measurement of measurements) {
      if (measurement.error !== undefined) continue;
      const label = `${measurement.scenario.name} / ${measurement.scenario.study.shape.label}`;
      try {
        const { seconds, detail } = await timedRun(measurement.scenario);
        measurement.seconds.push(seconds);
        if (detail.startSeconds !== undefined) measurement.startSeconds.push(detail.startSeconds);
        log(`${label}: run ${run}/${runs} ${seconds.toFixed(2)} s`);
      } catch (error) {
        measurement.error = (error as Error).message;
        measurement.seconds = [];
        measurement.startSeconds = [];
        log(`${label}: FAILED: ${measurement.error}`);
      }
    }
  }
  return measurements;
}
