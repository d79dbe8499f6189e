// `cardbridge msg send|list|read`: the secure health messaging from the desktop, through the
// running agent (CPS card): login to the DMP service with DmpClient (cps.authenticate), messages
// sealed with sealMessage (signHash = the card's cps.sign, encrypted to the recipients' and the
// sender's authentication certificates from the directory) and opened with openMessage
// (decryptKey = the card's cps.decrypt). The service only ever sees opaque envelopes.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { WebSocket } from 'ws';
import { DEFAULT_AGENT_HOST, DEFAULT_AGENT_PORT, defaultConfigDir } from '../../agent/config.js';
import { loadLocalToken } from '../../agent/security/local-secrets.js';
import { AgentClient } from '../../client/agent-client/index.js';
import { DmpClient, type DpopKey } from '../../client/dmp-client/index.js';
import { fromBase64, toBase64 } from '../../client/shared/bytes.js';
import { openMessage, sealMessage, type Attachment } from '../../messaging/index.js';
import { CliError } from '../support/reader-access.js';
import { runCommand, type OutputOptions } from '../support/run-command.js';

const APP_ID = 'cardbridge-cli';
const PKCS7 = 'application/pkcs7-mime';

interface CommonOptions extends OutputOptions {
  dmp?: string;
  port?: string;
  config?: string;
  reader?: string;
}

interface DirectoryEntry {
  nationalId: string;
  surname: string;
  givenName: string;
  professionLabel: string;
  structureName: string | null;
  authCertificate: string;
}

interface MailboxItem {
  id: string;
  folder: 'inbox' | 'sent';
  sender: string;
  recipients: string[];
  date: string;
  size: number;
  read: boolean;
}

/** An agent connection and a DMP session; `call` sends DPoP-bound requests of that session. */
interface Connection {
  readonly agent: AgentClient;
  readonly dmp: DmpClient;
  readonly baseUrl: string;
  readonly reader: string | undefined;
  call(method: string, path: string, init?: { json?: unknown; bytes?: Uint8Array }): Promise<Response>;
  close(): Promise<void>;
}

async function connect(options: CommonOptions): Promise<Connection> {
  const baseUrl = (options.dmp ?? process.env.CARDBRIDGE_DMP_URL ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl)) throw new CliError('INVALID_PARAMS', 'Adresse du service DMP requise : --dmp https://… (ou $CARDBRIDGE_DMP_URL).');
  const port = options.port === undefined ? DEFAULT_AGENT_PORT : Number(options.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new CliError('INVALID_PARAMS', `Port invalide : ${String(options.port)}.`);
  let token: string;
  try {
    token = loadLocalToken(options.config ?? defaultConfigDir()).reveal();
  } catch {
    throw new CliError('AGENT_NOT_RUNNING', "Jeton local de l'agent introuvable : démarrez l'agent (cardbridge agent) ou indiquez --config.", 3);
  }
  let agent: AgentClient;
  try {
    agent = await AgentClient.connect({ url: `ws://${DEFAULT_AGENT_HOST}:${port}/v1`, WebSocket: WebSocket as never, token, appId: APP_ID, reconnect: false });
  } catch (error) {
    throw new CliError('AGENT_NOT_RUNNING', `L'agent ne répond pas sur ws://${DEFAULT_AGENT_HOST}:${port}/v1 : ${error instanceof Error ? error.message : String(error)}`, 3);
  }
  const dmp = new DmpClient({ baseUrl, agent, ...(options.reader ? { reader: options.reader } : {}) });
  try {
    await dmp.login(options.reader ? { reader: options.reader } : {});
  } catch (error) {
    agent.close();
    throw new CliError('LOGIN_FAILED', `Connexion au service DMP impossible : ${error instanceof Error ? error.message : String(error)}`);
  }
  // DmpClient has no public request for the messaging routes yet: its session's DPoP key and
  // token sign these requests (same key the service bound the session to).
  const session = (dmp as unknown as { session?: { key: DpopKey; token: string } }).session;
  if (!session) throw new CliError('LOGIN_FAILED', 'Session DMP absente après la connexion.');
  return {
    agent,
    dmp,
    baseUrl,
    reader: options.reader,
    async call(method, path, init = {}) {
      const htu = `${baseUrl}${path.split('?', 1)[0] ?? path}`;
      const headers: Record<string, string> = {
        DPoP: await session.key.proof({ htm: method, htu, accessToken: session.token }),
        Authorization: `DPoP ${session.token}`,
      };
      let body: BodyInit | undefined;
      if (init.bytes) {
        headers['Content-Type'] = PKCS7;
        body = init.bytes as unknown as BodyInit;
      } else if (init.json !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(init.json);
      }
      const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      if (!response.ok) {
        const text = await response.text();
        let detail = text;
        let code = `HTTP_${response.status}`;
        try {
          const problem = JSON.parse(text) as { detail?: string; code?: string };
          detail = problem.detail ?? text;
          code = problem.code ?? code;
        } catch {
          /* not JSON */
        }
        throw new CliError(code, `Le service a refusé (${response.status}) : ${detail}`);
      }
      return response;
    },
    async close() {
      await dmp.logout().catch(() => undefined);
      agent.close();
    },
  };
}

async function withConnection<T>(options: CommonOptions, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await connect(options);
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

/** A recipient given as a national id (8… / 0…) or a name that must designate one practitioner. */
async function resolveRecipient(c: Connection, query: string): Promise<DirectoryEntry> {
  const byId = /^[0-9]{10,12}$/.test(query);
  const response = await c.call('GET', `/v1/directory?${byId ? 'id' : 'name'}=${encodeURIComponent(query)}&limit=10`);
  const found = ((await response.json()) as { practitioners: DirectoryEntry[] }).practitioners;
  if (found.length === 0) throw new CliError('RECIPIENT_UNKNOWN', `Aucun professionnel de l'annuaire ne correspond à « ${query} ».`);
  if (found.length > 1) {
    throw new CliError('RECIPIENT_AMBIGUOUS', `« ${query} » désigne plusieurs professionnels : ${found.map((p) => `${p.givenName} ${p.surname} (${p.nationalId})`).join(', ')}. Précisez l'identifiant national.`);
  }
  return found[0] as DirectoryEntry;
}

/** The message's practitioner id: the RPPS (11 digits) or ADELI (9), without the type digit. */
const messageId = (nationalId: string): string => nationalId.slice(1);

interface SendOptions extends CommonOptions {
  to: string[];
  subject: string;
  body?: string;
  bodyFile?: string;
  attach?: string[];
}

async function send(options: SendOptions): Promise<{ id: string; recipients: string[]; size: number }> {
  const body = options.bodyFile !== undefined ? readFileSync(options.bodyFile, 'utf8') : (options.body ?? '');
  const attachments: Attachment[] = (options.attach ?? []).map((path) => ({ filename: basename(path), mediaType: 'application/octet-stream', content: new Uint8Array(readFileSync(path)) }));
  return withConnection(options, async (c) => {
    const me = c.dmp.practitioner;
    if (!me) throw new CliError('LOGIN_FAILED', 'Praticien inconnu après la connexion.');
    const recipients = [];
    for (const query of options.to) recipients.push(await resolveRecipient(c, query));
    const certificates = await c.agent.cps.getCertificates(c.reader ? { reader: c.reader } : {});
    const reader = c.reader ? { reader: c.reader } : {};
    const envelope = await sealMessage({
      mime: {
        from: { nationalId: messageId(me.nationalId), name: `${me.givenName} ${me.surname}` },
        to: recipients.map((r) => ({ nationalId: messageId(r.nationalId), name: `${r.givenName} ${r.surname}` })),
        subject: options.subject,
        date: new Date(),
        body,
        attachments,
      },
      signerCertificate: fromBase64(certificates.signature),
      signHash: async (hash) => fromBase64((await c.agent.cps.sign({ ...reader, hash, hashAlgorithm: 'SHA-256' })).signature),
      recipientCertificates: [...recipients.map((r) => fromBase64(r.authCertificate)), fromBase64(certificates.authentication)],
    });
    const response = await c.call('POST', '/v1/messages', { bytes: envelope });
    return (await response.json()) as { id: string; recipients: string[]; size: number };
  });
}

async function list(options: CommonOptions & { folder?: string; limit?: string }): Promise<{ messages: MailboxItem[]; used: number; quota: number }> {
  return withConnection(options, async (c) => {
    const query = new URLSearchParams({ folder: options.folder ?? 'all', limit: options.limit ?? '50' });
    return (await (await c.call('GET', `/v1/messages?${query}`)).json()) as { messages: MailboxItem[]; used: number; quota: number };
  });
}

interface ReadResult {
  id: string;
  from: { nationalId: string; name: string };
  to: { nationalId: string; name: string }[];
  subject: string;
  date: string;
  body: string;
  signer: string;
  signatureValid: boolean;
  attachments: { filename: string; mediaType: string; size: number; savedTo: string | null }[];
}

async function read(id: string, options: CommonOptions & { save?: string }): Promise<ReadResult> {
  return withConnection(options, async (c) => {
    const response = await c.call('GET', `/v1/messages/${encodeURIComponent(id)}`);
    const envelope = new Uint8Array(await response.arrayBuffer());
    const reader = c.reader ? { reader: c.reader } : {};
    const certificates = await c.agent.cps.getCertificates(reader);
    const opened = await openMessage({
      envelopedDer: envelope,
      recipientCertificate: fromBase64(certificates.authentication),
      decryptKey: async (ciphertext) => fromBase64((await c.agent.cps.decrypt({ ...reader, ciphertext: toBase64(ciphertext) })).plaintext),
    });
    await c.call('POST', `/v1/messages/${encodeURIComponent(id)}/read`);
    if (options.save) mkdirSync(options.save, { recursive: true });
    return {
      id,
      from: opened.mime.from,
      to: [...opened.mime.to],
      subject: opened.mime.subject,
      date: opened.mime.date.toISOString(),
      body: opened.mime.body,
      signer: `${opened.signer.name} (${opened.signer.nationalId})`,
      signatureValid: opened.signatureValid,
      attachments: opened.mime.attachments.map((a) => {
        let savedTo: string | null = null;
        if (options.save) {
          savedTo = join(options.save, basename(a.filename));
          writeFileSync(savedTo, a.content, { flag: 'wx' });
        }
        return { filename: a.filename, mediaType: a.mediaType, size: a.content.byteLength, savedTo };
      }),
    };
  });
}

const octets = (n: number): string => (n < 1024 ? `${n} o` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} Kio` : `${(n / 1024 / 1024).toFixed(1)} Mio`);

export function renderList(r: { messages: MailboxItem[]; used: number; quota: number }): string {
  const lines = r.messages.map(
    (m) =>
      `${m.read ? ' ' : '*'} ${m.id}  ${new Date(m.date).toLocaleString('fr-FR', { timeZone: 'Europe/Paris' })}  ${m.folder === 'inbox' ? `de ${m.sender}` : `à ${m.recipients.join(', ')}`}  ${octets(m.size)}`,
  );
  return [
    r.messages.length === 0 ? 'Aucun message.' : `${r.messages.length} message(s) (* = non lu ; l'objet est chiffré, lisez-le avec « cardbridge msg read <id> ») :`,
    ...lines,
    `Boîte : ${octets(r.used)} utilisés sur ${octets(r.quota)}.`,
  ].join('\n');
}

export function renderRead(r: ReadResult): string {
  return [
    `De : ${r.from.name} (${r.from.nationalId})`,
    `À : ${r.to.map((t) => `${t.name} (${t.nationalId})`).join(', ')}`,
    `Date : ${new Date(r.date).toLocaleString('fr-FR', { timeZone: 'Europe/Paris' })}`,
    `Objet : ${r.subject}`,
    `Signature : ${r.signatureValid ? 'valide' : 'non vérifiée'} (${r.signer}) ; la chaîne et la révocation du certificat du signataire ne sont pas vérifiées ici.`,
    '',
    r.body,
    ...(r.attachments.length === 0 ? [] : ['', 'Pièces jointes :', ...r.attachments.map((a) => `  - ${a.filename} (${a.mediaType}, ${octets(a.size)})${a.savedTo ? ` enregistrée dans ${a.savedTo}` : ''}`)]),
  ].join('\n');
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];

function common(command: Command): Command {
  return command
    .option('--dmp <url>', 'adresse du service DMP (défaut : $CARDBRIDGE_DMP_URL)')
    .option('--port <port>', "port de l'agent local")
    .option('--config <dir>', "répertoire de configuration de l'agent (jeton local)")
    .option('--reader <name>', 'lecteur de la carte CPS')
    .option('--json', 'sortie JSON');
}

export function registerMsgCommand(program: Command): void {
  const msg = program.command('msg').description('Messagerie sécurisée de santé : envoyer, lister et lire des messages chiffrés par la carte CPS (via l’agent)');
  common(msg.command('send').description('Envoie un message signé et chiffré pour ses destinataires'))
    .requiredOption('--to <destinataire>', 'identifiant national (8… / 0…) ou nom ; répétable ou séparé par des virgules', collect)
    .requiredOption('--subject <objet>', 'objet du message')
    .option('--body <texte>', 'texte du message')
    .option('--body-file <fichier>', 'texte du message lu dans un fichier')
    .option('--attach <fichier>', 'pièce jointe (répétable)', collect)
    .action((options: SendOptions) => runCommand(options, () => send(options), (r) => `Message ${r.id} déposé pour ${r.recipients.join(', ')} (${octets(r.size)} chiffrés).`));
  common(msg.command('list').description('Liste votre boîte (reçus et envoyés)'))
    .option('--folder <dossier>', 'inbox, sent ou all', 'all')
    .option('--limit <n>', 'nombre de messages', '50')
    .action((options: CommonOptions & { folder?: string; limit?: string }) => runCommand(options, () => list(options), renderList));
  common(msg.command('read').description('Déchiffre et affiche un message (la carte déchiffre la clé du message)').argument('<id>', 'identifiant du message'))
    .option('--save <dossier>', 'enregistre les pièces jointes dans ce dossier')
    .action((id: string, options: CommonOptions & { save?: string }) => runCommand(options, () => read(id, options), renderRead));
}
