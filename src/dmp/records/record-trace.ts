// Traces of the records in the patient's chain (`patient:<oid>:<value>`, one per DMP): who
// (actor: national id and profession code, or establishment and local user), mode (normal,
// bris_de_glace, centre_15), what (action, target, detail), when, result. Successful operations
// append their trace in their own transaction; refused attempts are traced too, in a transaction
// of their own, before the refusal is answered (traceRefusals).
import { DmpError } from '../errors.js';
import { appendTrace, type DmpRepository, type DmpStore } from '../store/index.js';
import type { TraceActor, TraceEntry, TraceMode } from '../traces/index.js';
import { patientChainId } from './patient-ins.js';

export interface TracedPatient {
  readonly id: string;
  readonly insOid: string;
  readonly insValue: string;
}

export interface TraceWhat {
  readonly action: string;
  readonly target?: string;
  readonly detail?: Record<string, unknown>;
}

/** Where one request's traces go: the patient's chain, its actor, the access mode once known. */
export class PatientTrail {
  mode: TraceMode = 'normal';

  constructor(
    readonly patient: TracedPatient,
    readonly actor: TraceActor,
    private readonly clock: () => Date,
  ) {}

  get chain(): string {
    return patientChainId({ oid: this.patient.insOid, value: this.patient.insValue });
  }

  /** Appends a successful operation's trace, in the operation's transaction. */
  ok(tx: DmpRepository, what: TraceWhat): Promise<TraceEntry> {
    return this.append(tx, what, 'ok');
  }

  /** Appends a refusal's trace (its code in the detail), in a transaction of its own. */
  refused(store: DmpStore, what: TraceWhat, error: DmpError): Promise<TraceEntry> {
    return store.transaction((tx) => this.append(tx, { ...what, detail: { ...what.detail, code: error.code } }, 'refused'));
  }

  private append(tx: DmpRepository, what: TraceWhat, result: 'ok' | 'refused'): Promise<TraceEntry> {
    return appendTrace(
      tx,
      {
        chain: this.chain,
        at: this.clock(),
        actor: this.actor,
        mode: this.mode,
        action: what.action,
        ...(what.target === undefined ? {} : { target: what.target }),
        result,
        ...(what.detail === undefined ? {} : { detail: what.detail }),
      },
      { patientId: this.patient.id },
    );
  }
}

/**
 * Runs `fn`; a refusal it throws (a DmpError below 500) is traced in the patient's chain before
 * it propagates. `what` may be a function, for details known only once `fn` ran (e.g. the id of
 * the document a request named).
 */
export async function traceRefusals<T>(store: DmpStore, trail: PatientTrail, what: TraceWhat | (() => TraceWhat), fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof DmpError && error.status < 500) await trail.refused(store, typeof what === 'function' ? what() : what, error);
    throw error;
  }
}
