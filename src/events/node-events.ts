import { EventEmitter } from 'node:events';
import type { IngestContext, IngestOutcome } from '../ingest/types.js';

/** Events between parts of the node; each is a fact that already happened. */
export interface NodeEventMap {
  'instance-stored': [outcome: IngestOutcome, ctx: IngestContext];
  'association-released': [info: { associationId: string; callingAe: string; instances: number }];
}

/** A typed event bus, passed as a dependency (house style 7). */
export class NodeEvents extends EventEmitter<NodeEventMap> {}
