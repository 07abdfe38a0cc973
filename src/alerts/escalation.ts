import { after, type Clock } from './clock.js';

export interface EscalationTimerDeps {
  clock: Clock;
  /** When the next escalation is due (read from the database), or null when none can happen. */
  nextAt: () => number | null;
  /** Escalates everything due now (and rearms through the caller). */
  fire: () => void;
}

/**
 * One timer for the earliest due escalation, rebuilt from the database after every change (a
 * raise, an escalation, an acknowledgement) and at start: no per-alert timers to lose on restart.
 */
export function createEscalationTimer(deps: EscalationTimerDeps) {
  let cancel: (() => void) | null = null;
  const clear = () => {
    cancel?.();
    cancel = null;
  };
  const rearm = (): void => {
    clear();
    const at = deps.nextAt();
    if (at === null) return;
    cancel = after(deps.clock, at - deps.clock.now(), () => {
      cancel = null;
      deps.fire();
      // fire() rearms when it escalated something; if nothing was due yet (tier without
      // channels), rearm here so that the timer is never lost.
      if (cancel === null) rearm();
    });
  };
  return { rearm, cancel: clear };
}
