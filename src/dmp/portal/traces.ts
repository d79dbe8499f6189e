// The patient's side of the traces: what the portal records in the patient's chain
// (`patient:<oid>:<value>`, mode 'portal', actor the patient), and the readable French lines the
// patient sees when he reads his chain (who, in which role, how, did what, to what, when, result).
import { patientChainId } from '../records/index.js';
import { appendTrace, traceEntryOf, type DmpRepository, type TraceRow } from '../store/index.js';
import type { TraceEntry, TraceResult } from '../traces/index.js';

/** The portal's actions, as written in `action`. */
export const PORTAL_ACTIONS = {
  activate: 'activer l’accès au portail',
  login: 'se connecter au portail',
  logout: 'se déconnecter du portail',
  totp_enroll: 'enregistrer une application d’authentification',
  totp_confirm: 'confirmer l’application d’authentification',
  list_documents: 'consulter la liste de ses documents',
  read_document: 'télécharger un document',
  send_document: 'ajouter un document',
  mask_document: 'masquer un document aux professionnels',
  unmask_document: 'rendre un document visible aux professionnels',
  request_deletion: 'demander la suppression d’un document',
  delete_document: 'supprimer un de ses documents',
  read_authorizations: 'consulter ses autorisations',
  authorization: 'modifier l’autorisation d’un professionnel',
  medecin_traitant: 'déclarer son médecin traitant',
  oppositions: 'modifier ses oppositions (bris de glace, centre 15)',
  read_traces: 'consulter l’historique des accès',
  close: 'fermer son DMP',
} as const;

export type PortalAction = keyof typeof PORTAL_ACTIONS;

/** Labels of the practitioner side's actions (src/dmp/records, src/dmp/auth); others show as written. */
const OTHER_ACTIONS: Record<string, string> = {
  'patient.create': 'créer le DMP',
  'patient.read': 'consulter l’état du DMP',
  'patient.close': 'fermer le DMP',
  'authorization.update': 'enregistrer son autorisation d’accès',
  'medecin-traitant.declare': 'se déclarer médecin traitant',
  'document.search': 'rechercher dans vos documents',
  'document.read-metadata': 'consulter la description d’un document',
  'document.read': 'consulter un document',
  'document.send': 'ajouter un document',
  'document.update': 'modifier un document',
  'document.delete': 'supprimer un document',
  'traces.read': 'consulter l’historique des accès',
  login: 'se connecter',
  logout: 'se déconnecter',
};

const MODES: Record<string, string> = {
  normal: 'accès normal',
  bris_de_glace: 'accès en urgence (bris de glace)',
  centre_15: 'accès par le centre de régulation (SAMU, centre 15)',
  portal: 'portail patient',
};

const ACTOR_KINDS: Record<string, string> = {
  practitioner: 'professionnel de santé',
  patient: 'vous-même',
  establishment: 'établissement de santé',
  system: 'le service DMP',
};

/** The patient's chain (`patient:<oid>:<value>`, as the records module names it) from an INS path. */
export function patientChain(insPath: string): string {
  const colon = insPath.indexOf(':');
  return patientChainId({ oid: insPath.slice(0, colon), value: insPath.slice(colon + 1) });
}

/** Appends a portal entry to the patient's chain, in the caller's transaction. */
export async function tracePortal(
  tx: DmpRepository,
  input: {
    insPath: string;
    patientId: string;
    at: Date;
    action: PortalAction;
    result?: TraceResult;
    target?: string;
    detail?: Record<string, unknown>;
  },
): Promise<TraceEntry> {
  return appendTrace(
    tx,
    {
      chain: patientChain(input.insPath),
      at: input.at,
      actor: { kind: 'patient', id: input.insPath },
      mode: 'portal',
      action: input.action,
      result: input.result ?? 'ok',
      ...(input.target === undefined ? {} : { target: input.target }),
      ...(input.detail === undefined ? {} : { detail: input.detail }),
    },
    { patientId: input.patientId },
  );
}

export interface ReadableTrace {
  readonly seq: number;
  readonly at: string;
  readonly actor: { readonly kind: string; readonly id: string; readonly role: string | null; readonly label: string };
  readonly mode: string;
  readonly modeLabel: string;
  readonly action: string;
  readonly actionLabel: string;
  readonly target: string | null;
  readonly result: TraceResult;
  readonly resultLabel: string;
  readonly detail: Record<string, unknown> | null;
  /** One French sentence: when, who, how, what, result. */
  readonly summary: string;
}

function actionLabel(entry: TraceEntry): string {
  if (entry.mode === 'portal' && Object.hasOwn(PORTAL_ACTIONS, entry.action)) return PORTAL_ACTIONS[entry.action as PortalAction];
  return Object.hasOwn(OTHER_ACTIONS, entry.action) ? (OTHER_ACTIONS[entry.action] as string) : entry.action;
}

/** The patient's view of stored entries; `names` gives practitioners' names from the directory. */
export function readableTraces(rows: readonly TraceRow[], names: ReadonlyMap<string, { surname: string; givenName: string; professionLabel: string }>): ReadableTrace[] {
  return rows.map((row) => {
    const entry = traceEntryOf(row);
    const name = entry.actor.kind === 'practitioner' ? names.get(entry.actor.id) : undefined;
    const actorLabel =
      name !== undefined
        ? `${name.givenName} ${name.surname} (${name.professionLabel})`
        : entry.actor.kind === 'patient'
          ? ACTOR_KINDS.patient!
          : `${ACTOR_KINDS[entry.actor.kind] ?? entry.actor.kind} ${entry.actor.id}`;
    const modeLabel = MODES[entry.mode] ?? entry.mode;
    const what = actionLabel(entry);
    const resultLabel = entry.result === 'ok' ? 'effectué' : 'refusé';
    const when = new Date(entry.at).toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'long', timeStyle: 'short' });
    return {
      seq: entry.seq,
      at: entry.at,
      actor: { kind: entry.actor.kind, id: entry.actor.id, role: entry.actor.role ?? null, label: actorLabel },
      mode: entry.mode,
      modeLabel,
      action: entry.action,
      actionLabel: what,
      target: entry.target ?? null,
      result: entry.result,
      resultLabel,
      detail: entry.detail ?? null,
      summary: `${when} — ${actorLabel}, ${modeLabel} : ${what}${entry.target ? ` (${entry.target})` : ''} — ${resultLabel}`,
    };
  });
}
