// After a break-glass or regulation-centre access (dmp-service.md), the patient and his médecin
// traitant are told (outbox rows, in the transaction of the access and its trace). Recipients are
// logical — `patient:<patient id>`, `practitioner:<national id>` — resolved by the gateway (the
// patient's portal contact, the practitioner's secure messaging). One message per recipient,
// mode, reader and hour: the message id is derived from them, so a practitioner reading ten
// documents in one emergency sends one notification, not ten.
import { createHash } from 'node:crypto';
import type { DmpRepository } from '../store/index.js';
import type { AllowedAccess } from './access-decision.js';

export const EMERGENCY_NOTIFICATION_KIND = 'notification';
export const EMERGENCY_NOTIFICATION_EVENT = 'dmp.emergency_access';
const WINDOW_MS = 3_600_000;

export interface EmergencyAccessNotice {
  readonly access: AllowedAccess;
  readonly patient: { readonly id: string; readonly insOid: string; readonly insValue: string; readonly medecinTraitantId: string | null };
  readonly readerName: string;
  readonly at: Date;
  /** What was read (search, document id). */
  readonly what: string;
}

function messageId(parts: readonly string[]): string {
  return `emergency-${createHash('sha256').update(parts.join('\u0000'), 'utf8').digest('hex').slice(0, 40)}`;
}

/** Queues the notifications of an emergency access; nothing for a normal one. Returns how many were queued. */
export async function notifyEmergencyAccess(tx: DmpRepository, notice: EmergencyAccessNotice): Promise<number> {
  const { access, patient, at } = notice;
  if (!access.emergency) return 0;
  const recipients = [`patient:${patient.id}`];
  if (patient.medecinTraitantId !== null && patient.medecinTraitantId !== access.readerId) recipients.push(`practitioner:${patient.medecinTraitantId}`);
  const window = Math.floor(at.getTime() / WINDOW_MS);
  const payload = JSON.stringify({
    event: EMERGENCY_NOTIFICATION_EVENT,
    mode: access.mode,
    at: at.toISOString(),
    patientIns: { oid: patient.insOid, value: patient.insValue },
    practitioner: { id: access.readerId, name: notice.readerName, professionCode: access.professionCode },
    reason: access.reason,
    what: notice.what,
  });
  let queued = 0;
  for (const recipient of recipients) {
    const added = await tx.records.enqueueNotification({
      id: messageId([access.mode, patient.id, access.readerId, String(window), recipient]),
      kind: EMERGENCY_NOTIFICATION_KIND,
      recipient,
      payload,
      createdAt: at.getTime(),
      availableAt: at.getTime(),
    });
    if (added) queued++;
  }
  return queued;
}
