// The DMP service's errors: one catalogue of stable codes (the `code` of every RFC 9457 problem
// the service answers), each with its HTTP status and French title. Routes throw DmpError; the
// error handler (http/problem.ts) turns it into `application/problem+json`.
//
// Adding a code: add it here (status + French title); it is then usable everywhere and listed
// in the OpenAPI document. Never rename or reuse a code: clients switch on them.

export interface ProblemDefinition {
  readonly status: number;
  readonly title: string;
}

export const PROBLEMS = {
  // --- requests ---
  REQUEST_INVALID: { status: 400, title: 'Requête invalide' },
  NOT_FOUND: { status: 404, title: 'Ressource introuvable' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Méthode non autorisée' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Requête trop volumineuse' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Type de contenu non pris en charge' },
  CORS_NOT_ALLOWED: { status: 403, title: 'Requête inter-origines non autorisée' },
  RATE_LIMITED: { status: 429, title: 'Trop de requêtes' },
  INTERNAL: { status: 500, title: 'Erreur interne du service' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service momentanément indisponible' },

  // --- practitioner login (dmp-service.md, step 3, in the order of the checks) ---
  TOKEN_MALFORMED: { status: 400, title: "Jeton d'authentification mal formé" },
  CHALLENGE_INVALID: { status: 401, title: 'Défi inconnu, expiré, déjà utilisé ou lié à une autre clé' },
  ORIGIN_NOT_ALLOWED: { status: 401, title: "Origine du jeton non autorisée par le service" },
  CERTIFICATE_INVALID: { status: 401, title: 'Certificat non valide' },
  CERTIFICATE_REVOKED: { status: 401, title: 'Certificat révoqué' },
  REVOCATION_UNKNOWN: { status: 401, title: 'Statut de révocation du certificat inconnu' },
  SIGNATURE_INVALID: { status: 401, title: "Signature du jeton d'authentification invalide" },
  PROFESSION_UNKNOWN: { status: 403, title: 'Profession du porteur inconnue' },
  PROFESSION_NOT_ALLOWED: { status: 403, title: "Profession, spécialité ou secteur d'activité non autorisé dans le DMP" },

  // --- DPoP proofs (RFC 9449) ---
  DPOP_REQUIRED: { status: 401, title: 'Preuve DPoP requise' },
  DPOP_INVALID: { status: 401, title: 'Preuve DPoP invalide' },
  DPOP_REPLAYED: { status: 401, title: 'Preuve DPoP déjà utilisée' },
  DPOP_STALE: { status: 401, title: 'Preuve DPoP hors de la fenêtre de temps acceptée' },
  DPOP_HTM_MISMATCH: { status: 401, title: 'Preuve DPoP émise pour une autre méthode HTTP' },
  DPOP_HTU_MISMATCH: { status: 401, title: 'Preuve DPoP émise pour une autre adresse' },
  DPOP_ATH_MISMATCH: { status: 401, title: 'Preuve DPoP émise pour un autre jeton de session' },
  DPOP_KEY_MISMATCH: { status: 401, title: 'Preuve DPoP signée par une autre clé que celle de la session' },

  // --- sessions ---
  SESSION_REQUIRED: { status: 401, title: 'Session requise (en-tête Authorization: DPoP)' },
  SESSION_INVALID: { status: 401, title: 'Session inconnue ou terminée' },
  SESSION_EXPIRED: { status: 401, title: 'Session expirée' },
  ESTABLISHMENT_READ_FORBIDDEN: { status: 403, title: 'Le mode établissement permet d’alimenter le DMP, jamais de le consulter' },

  // --- patient portal (/v1/portal) ---
  ACTIVATION_INVALID: { status: 401, title: "Code d'activation incorrect, déjà utilisé ou sans DMP pour cet INS" },
  ACTIVATION_EXPIRED: { status: 401, title: "Code d'activation expiré : demandez-en un nouveau à un professionnel de santé" },
  SECRET_CODE_WEAK: { status: 400, title: 'Code secret trop faible' },
  CONTACT_INVALID: { status: 400, title: 'Numéro de téléphone ou adresse électronique invalide' },
  PORTAL_CREDENTIALS_INVALID: { status: 401, title: 'INS ou code secret incorrect' },
  OTP_INVALID: { status: 401, title: 'Code à usage unique incorrect, expiré ou déjà utilisé' },
  TOO_MANY_ATTEMPTS: { status: 429, title: 'Trop de tentatives infructueuses' },
  PATIENT_SESSION_REQUIRED: { status: 401, title: 'Session patient requise (en-tête Authorization: Bearer)' },
  DMP_CLOSED: { status: 403, title: 'DMP fermé' },
  TOTP_NOT_PENDING: { status: 409, title: "Aucune application d'authentification en attente de confirmation" },
  PRACTITIONER_BLOCKED: { status: 409, title: 'Professionnel bloqué par le patient' },
  MEDECIN_TRAITANT_INVALID: { status: 422, title: 'Le médecin traitant doit être un médecin connu du service' },

  // --- practitioner-side records (/v1/patients, /v1/documents; src/dmp/records) ---
  INS_INVALID: { status: 400, title: 'INS invalide (OID non accepté ou valeur non conforme)' },
  CONSENT_REQUIRED: { status: 400, title: 'Consentement du patient requis pour créer son DMP' },
  TRAITS_INVALID: { status: 400, title: "Traits d'identité absents, mal formés ou incohérents avec l'INS" },
  PATIENT_EXISTS: { status: 409, title: 'Un DMP existe déjà pour cet INS' },
  PATIENT_NOT_FOUND: { status: 404, title: 'Aucun DMP pour cet INS' },
  DOCUMENT_NOT_FOUND: { status: 404, title: 'Document introuvable' },
  BLOCKED_BY_PATIENT: { status: 403, title: 'Le patient a bloqué ce professionnel : aucun accès à son DMP' },
  AUTHORIZATION_REQUIRED: { status: 403, title: "Autorisation d'accès du patient requise" },
  ACCESS_MODE_INVALID: { status: 400, title: "Mode d'accès inconnu (normal, bris_de_glace ou centre_15)" },
  REASON_REQUIRED: { status: 400, title: 'Motif obligatoire pour un accès en bris de glace' },
  BRIS_DE_GLACE_OPPOSED: { status: 403, title: "Le patient s'est opposé à l'accès en bris de glace" },
  CENTRE_15_OPPOSED: { status: 403, title: "Le patient s'est opposé à l'accès par le centre de régulation (centre 15)" },
  CENTRE_15_NOT_ALLOWED: { status: 403, title: 'Le mode centre 15 est réservé aux médecins' },
  MATRIX_DENIED: { status: 403, title: "Type de document non accessible à cette profession (matrice d'habilitations)" },
  MEDECIN_TRAITANT_PATIENT_ONLY: { status: 403, title: 'Le médecin traitant DMP est déclaré par le patient, sur le portail' },
  TRACES_PATIENT_ONLY: { status: 403, title: 'Les traces du DMP sont consultées par le patient, sur le portail' },
  NOT_AUTHOR: { status: 403, title: "Opération réservée à l'auteur du document" },
  UNMASK_PATIENT_ONLY: { status: 403, title: 'Seul le patient lève le masquage aux professionnels' },
  METADATA_INVALID: { status: 400, title: 'Métadonnées du document invalides' },
  DOCUMENT_TOO_LARGE: { status: 413, title: 'Document trop volumineux (10 Mio au plus)' },
  CDA_MALFORMED: { status: 422, title: 'Document CDA R2 mal formé' },
  INS_MISMATCH: { status: 422, title: "L'INS du patient du document ne correspond pas à celui du DMP" },
  DOCUMENT_SIGNATURE_INVALID: { status: 422, title: 'Signature CMS du document invalide' },
  SIGNER_CERTIFICATE_INVALID: { status: 422, title: 'Certificat du signataire du document non valide' },
  SIGNER_CERTIFICATE_REVOKED: { status: 422, title: 'Certificat du signataire du document révoqué' },
  SIGNER_REVOCATION_UNKNOWN: { status: 422, title: 'Statut de révocation du certificat du signataire inconnu' },
  SIGNER_MISMATCH: { status: 422, title: "Le signataire du document n'est pas l'utilisateur de la session" },
  DOCUMENT_STATE_CONFLICT: { status: 409, title: "Opération impossible dans l'état actuel du document" },
  CURSOR_INVALID: { status: 400, title: 'Curseur de pagination invalide' },
  DOCUMENT_ENCRYPTION_UNAVAILABLE: { status: 503, title: 'Chiffrement des documents non configuré sur ce service' },

  // --- secure messaging (/v1/directory, /v1/messages; src/dmp/messaging) ---
  MESSAGE_MALFORMED: { status: 400, title: "Le message n'est pas une enveloppe CMS (EnvelopedData) acheminable" },
  MESSAGE_TOO_LARGE: { status: 413, title: 'Message trop volumineux' },
  MESSAGE_RECIPIENT_UNKNOWN: { status: 422, title: "Destinataire inconnu de l'annuaire (certificat d'authentification jamais vu à la connexion)" },
  QUOTA_EXCEEDED: { status: 507, title: 'Quota de la boîte aux lettres dépassé (2 Gio par défaut)' },
  MESSAGE_NOT_FOUND: { status: 404, title: 'Message introuvable dans votre boîte' },
  MESSAGE_FORBIDDEN: { status: 403, title: "Message réservé à son expéditeur et à ses destinataires" },
} as const satisfies Record<string, ProblemDefinition>;

export type ProblemCode = keyof typeof PROBLEMS;

export function isProblemCode(value: string): value is ProblemCode {
  return Object.hasOwn(PROBLEMS, value);
}

/** `urn:cardbridge:problem:token-malformed` for TOKEN_MALFORMED: stable, one per code. */
export function problemType(code: ProblemCode): string {
  return `urn:cardbridge:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ProblemCode;
  readonly [extension: string]: unknown;
}

export class DmpError extends Error {
  override readonly name = 'DmpError';
  readonly code: ProblemCode;
  readonly status: number;
  /** Extra members of the problem object (e.g. `{ retryAfter }`); never secrets. */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** Response headers to add (e.g. WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;

  /** `detail` is shown to the client: French, specific, never a secret or a stack. */
  constructor(code: ProblemCode, detail: string, options: { extensions?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = PROBLEMS[code].status;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toProblem(): ProblemDetails {
    return {
      ...this.extensions,
      type: problemType(this.code),
      title: PROBLEMS[this.code].title,
      status: this.status,
      detail: this.message,
      code: this.code,
    };
  }
}

export function problem(code: ProblemCode, detail: string): ProblemDetails {
  return new DmpError(code, detail).toProblem();
}
