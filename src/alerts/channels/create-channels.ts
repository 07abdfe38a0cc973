import type { AlertChannelConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/log.js';
import type { AlertChannel } from '../types.js';
import { FhirChannel } from './fhir.js';
import { Hl7MllpChannel } from './hl7-mllp.js';
import { WebhookChannel } from './webhook.js';

export interface CreateChannelsDeps {
  log: Logger;
  /** Wall clock, ms since the epoch; default Date.now. */
  now?: () => number;
}

/**
 * The external channels of `alerts.channels`, in configuration order (already validated by
 * src/config/validate.ts). The dashboard channel is not among them: the dispatcher adds it at tier 0.
 * Creating a channel opens nothing; each delivery connects on its own.
 */
export function createAlertChannels(configs: AlertChannelConfig[], deps: CreateChannelsDeps): AlertChannel[] {
  return configs.map((c): AlertChannel => {
    const log = deps.log.child({ channel: c.id, channelType: c.type });
    const common = { id: c.id, tier: c.tier, timeoutMs: c.timeoutMs, now: deps.now, log };
    switch (c.type) {
      case 'webhook':
        return new WebhookChannel({ ...common, url: c.url, secret: c.secret });
      case 'hl7':
        return new Hl7MllpChannel({
          ...common,
          host: c.host,
          port: c.port,
          sendingApplication: c.sendingApplication,
          sendingFacility: c.sendingFacility,
          receivingApplication: c.receivingApplication,
          receivingFacility: c.receivingFacility,
        });
      case 'fhir':
        return new FhirChannel({ ...common, baseUrl: c.baseUrl, bearerToken: c.bearerToken });
    }
  });
}
