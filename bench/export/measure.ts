import { log } from './log';
import type { BenchStudy } from './studies';

/** What a row is compared with: C-STORE rows with storescu, STOW-RS rows with curl. */
export type ScenarioKind = 'storescu' | 'curl' | 'cstore' | 'stow' | 'reference';

export interface Scenario {
  name: string;
  kind: ScenarioKind;
  /** Least throughput ratio against the row's baseline (storescu or curl); none: reported only. */
  target?: number;
  study: BenchStudy;
  /** Untimed, before every run: e.g. delete the study from Orthanc. */
  prepare?: () => Promise<void>;
  /** The timed part. */
  run: () => Promise<void>;
  /** Untimed, after every run: that the run did what it claims (every instance arrived). */
  verify?: () => Promise<void>;
}

export interface Measurement {
  scenario: Scenario;
  seconds: number[];
  /** Why the scenario could not be measured; its runs so far are discarded. */
  error?: string;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs a scenario `runs` times; an error ends it and is recorded instead of thrown. */
export async function measure(scenario: Scenario, runs: number): Promise<Measurement> {
  const seconds: number[] = [];
  const label = `${scenario.name} / ${scenario.study.shape.label}`;
  try {
    for (let run = 1; run <= runs; run++) {
      await scenario.prepare?.();
      const started = process.hrtime.bigint();
      await scenario.run();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      await scenario.verify?.();
      seconds.push(elapsed);
      log(`${label}: run ${run}/${runs} ${elapsed.toFixed(2)} s`);
    }
    return { scenario, seconds };
  } catch (error) {
    const message = (error as Error).message;
    log(`${label}: FAILED: ${message}`);
    return { scenario, seconds: [], error: message };
  }
}
