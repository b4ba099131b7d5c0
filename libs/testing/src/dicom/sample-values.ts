import { randomBytes } from 'node:crypto';
import type { SpecificCharacterSet } from './character-sets';

export type PatientSex = 'M' | 'F' | 'O';

export interface PatientSpec {
  /** PN value with `^` between components; must be encodable in `charset`. */
  name?: string;
  id?: string;
  /** Omitted: no (0008,0005) and ASCII-only text. */
  charset?: SpecificCharacterSet;
  sex?: PatientSex;
  /** YYYYMMDD */
  birthDate?: string;
}

export type Patient = Required<Omit<PatientSpec, 'charset'>> & Pick<PatientSpec, 'charset'>;

interface SampleText {
  patientName: string;
  referringPhysicianName: string;
  studyDescription: string;
  procedureDescription: string;
  performingPhysicianName: string;
}

// Text in the script each character set exists for, so a wrong decoder shows up as mojibake.
const CYRILLIC: SampleText = {
  patientName: 'Иванов^Иван',
  referringPhysicianName: 'Врач^Ольга',
  studyDescription: 'КТ органов грудной клетки',
  procedureDescription: 'КТ с контрастом',
  performingPhysicianName: 'Лаборант^Нина',
};

const SAMPLES: Record<SpecificCharacterSet | 'ASCII', SampleText> = {
  'ISO_IR 192': { ...CYRILLIC, patientName: 'Петрова^Анна^Сергеевна' },
  'ISO_IR 144': CYRILLIC,
  'ISO_IR 100': {
    patientName: 'Müller^Jürgen',
    referringPhysicianName: 'Ärztin^Renée',
    studyDescription: 'CT Thorax, Übersicht',
    procedureDescription: 'CT mit Kontrastmittel',
    performingPhysicianName: 'Röntgen^Zoë',
  },
  ASCII: {
    patientName: 'Doe^John',
    referringPhysicianName: 'Referrer^Rita',
    studyDescription: 'CT chest',
    procedureDescription: 'CT with contrast',
    performingPhysicianName: 'Tech^Tom',
  },
};

export function sampleText(charset: SpecificCharacterSet | undefined): SampleText {
  return SAMPLES[charset ?? 'ASCII'];
}

/** Uppercase hex of `bytes` random bytes, for IDs that must not repeat across test runs. */
export function randomId(prefix: string, bytes: number): string {
  return `${prefix}${randomBytes(bytes).toString('hex').toUpperCase()}`;
}

export function resolvePatient(spec: PatientSpec = {}): Patient {
  return {
    name: spec.name ?? sampleText(spec.charset).patientName,
    id: spec.id ?? randomId('PL', 5),
    charset: spec.charset,
    sex: spec.sex ?? 'O',
    birthDate: spec.birthDate ?? '19700101',
  };
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** DA value (YYYYMMDD) of a local date. */
export function dicomDate(date = new Date()): string {
  return `${date.getFullYear()}${pad2(date.getMonth() + 1)}${pad2(date.getDate())}`;
}

/** TM value (HHMMSS) of a local time. */
export function dicomTime(date = new Date()): string {
  return `${pad2(date.getHours())}${pad2(date.getMinutes())}${pad2(date.getSeconds())}`;
}
