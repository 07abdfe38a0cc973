// Types for the parts of @redoxengine/redox-hl7-v2 (a test-only dependency, untyped CommonJS) the
// tests use: the schema-driven parser that turns an HL7 v2 message into nested JSON.
declare module '@redoxengine/redox-hl7-v2' {
  /** Field and component values by 1-based position; strings once unescaped. */
  export type Hl7Json = { [key: string]: Hl7Json | Hl7Json[] | string | string[] };
  export class Parser {
    constructor(options?: Record<string, unknown>);
    /** Throws when the message does not fit its structure (e.g. ORU_R01's groups). */
    parse(message: string): Hl7Json;
  }
  const hl7v2: { Parser: typeof Parser };
  export default hl7v2;
}
