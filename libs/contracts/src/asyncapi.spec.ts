import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import YAML from 'yaml';
import { allContracts } from './index';
import { Exchanges } from './topology';

/**
 * docs/asyncapi.yaml is written by hand; this keeps it from drifting from the contracts the code
 * publishes on `pacslink.events`: the same event types and versions, and for each event's data the
 * same fields, required exactly when the class does not mark them optional, enums as the code's.
 */

interface Schema {
  $ref?: string;
  type?: string | string[];
  required?: string[];
  properties?: Record<string, Schema>;
  enum?: unknown[];
  const?: unknown;
  allOf?: Schema[];
}

interface AsyncApiDocument {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  components: {
    messages: Record<string, { name: string; payload: Schema }>;
    schemas: Record<string, Schema>;
  };
}

const document = YAML.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'docs', 'asyncapi.yaml'), 'utf8'),
) as AsyncApiDocument;

function resolve(schema: Schema): Schema {
  if (schema.$ref === undefined) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const found = document.components.schemas[name];
  if (found === undefined) throw new Error(`asyncapi.yaml: ${schema.$ref} is not defined`);
  return resolve(found);
}

function messageOf(eventType: string) {
  const channel = Object.values(document.channels).find((candidate) => candidate.address === eventType);
  if (channel === undefined) return undefined;
  const ref = Object.values(channel.messages)[0].$ref;
  return document.components.messages[ref.replace('#/components/messages/', '')];
}

/** The payload's own part (after the Envelope): its type and version consts and its data schema. */
function envelopeParts(payload: Schema) {
  const own = (payload.allOf ?? []).find((part) => part.properties?.data !== undefined);
  if (own?.properties === undefined) throw new Error('the payload has no data schema');
  return {
    type: own.properties.type?.const,
    version: own.properties.version?.const,
    data: resolve(own.properties.data),
  };
}

/** Field → {optional, allowed values} as the data class's class-validator decorators say. */
function fieldsOf(dataClass: new () => object) {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dataClass, '', true, false);
  const fields = new Map<string, { optional: boolean; values?: unknown[] }>();
  for (const entry of metadata) {
    const field = fields.get(entry.propertyName) ?? { optional: false };
    if (entry.type === 'conditionalValidation') field.optional = true;
    if (entry.name === 'isIn') field.values = entry.constraints[0] as unknown[];
    fields.set(entry.propertyName, field);
  }
  return fields;
}

const events = allContracts.filter((contract) => contract.exchange === Exchanges.Events);

describe('docs/asyncapi.yaml against the event contracts', () => {
  it('documents every event type the contracts define, and no other', () => {
    const documented = Object.values(document.channels)
      .map((channel) => channel.address)
      .sort();
    expect(documented).toEqual(events.map((contract) => contract.type).sort());
  });

  it.each(events.map((contract) => [contract.type, contract] as const))(
    '%s: its version and its data fields, their optionality and allowed values',
    (type, contract) => {
      const message = messageOf(type);
      expect(message).toBeDefined();
      const parts = envelopeParts(message!.payload);
      expect({ type: parts.type, version: parts.version }).toEqual({ type, version: contract.version });

      const fields = fieldsOf(contract.data);
      const properties = parts.data.properties ?? {};
      expect(Object.keys(properties).sort()).toEqual([...fields.keys()].sort());
      const required = [...fields].filter(([, field]) => !field.optional).map(([name]) => name);
      expect([...(parts.data.required ?? [])].sort()).toEqual(required.sort());
      for (const [name, field] of fields) {
        if (field.values === undefined) continue;
        const documented = resolve(properties[name]).enum?.filter((value) => value !== null);
        expect({ field: name, values: documented }).toEqual({ field: name, values: [...field.values] });
      }
    },
  );
});
