// `cardbridge cps …`: the practitioner's CPS card from the command line (like `ykman` for a
// YubiKey): identity, certificates, PIN status and management, signature of a hash.
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { CpsSession } from '../../cards/cps-session.js';
import { connectCard, withMonitor, type ReaderOptions } from '../support/reader-access.js';
import { runCommand, type OutputOptions } from '../support/run-command.js';
import { readSecrets } from '../support/secret-input.js';

type CpsOptions = ReaderOptions & OutputOptions & { pinStdin?: boolean };

async function withCps<T>(options: CpsOptions, fn: (session: CpsSession) => Promise<T>): Promise<T> {
  return withMonitor(options, async (monitor) => fn(await CpsSession.open(await connectCard(monitor, options, ['CPS3', 'CPS4'], 'carte CPS'))));
}

function common(command: Command): Command {
  return command
    .option('--reader <nom>', 'lecteur à utiliser (défaut : le seul qui contient une CPS)')
    .option('--allow-virtual-readers', 'inclure les lecteurs virtuels « Virtual PCD » (tests uniquement)')
    .option('--json', 'sortie JSON');
}

const pem = (der: Uint8Array) => new X509Certificate(Buffer.from(der)).toString().trim();

function parseHash(value: string): Buffer {
  const clean = value.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(clean) ? Buffer.from(clean, 'hex') : Buffer.from(clean, 'base64');
  if (bytes.length !== 32) throw new InvalidArgumentError('empreinte SHA-256 attendue : 64 chiffres hexadécimaux ou 44 caractères base64');
  return bytes;
}

export function registerCpsCommand(program: Command): void {
  const cps = program.command('cps').description('Carte de Professionnel de Santé (CPS3, CPS4)');

  common(cps.command('info').description('Identité du porteur lue dans les certificats (sans PIN)')).action(async (options: CpsOptions) => {
    await runCommand(
      options,
      () => withCps(options, (s) => s.getIdentity()),
      (id) =>
        [
          `${id.givenName} ${id.surname} — ${id.professionLabel}${id.professionCode ? ` (${id.professionCode})` : ''}${id.specialtyCode ? `, spécialité ${id.specialtyCode}` : ''}`,
          `${id.idType} ${id.nationalId} — carte ${id.family} n° ${id.serial}`,
          `Certificats valables jusqu'au ${id.notAfter}`,
        ].join('\n'),
    );
  });

  common(cps.command('certs').description("Certificats d'authentification et de signature (PEM, ou base64 DER en JSON)")).action(async (options: CpsOptions) => {
    await runCommand(
      options,
      async () => {
        const certs = await withCps(options, (s) => s.getCertificates());
        return { authentication: Buffer.from(certs.authentication).toString('base64'), signature: Buffer.from(certs.signature).toString('base64'), pem: { authentication: pem(certs.authentication), signature: pem(certs.signature) } };
      },
      (c) => `# Certificat d'authentification\n${c.pem.authentication}\n# Certificat de signature\n${c.pem.signature}`,
    );
  });

  common(cps.command('pin-status').description('Essais restants du code porteur')).action(async (options: CpsOptions) => {
    await runCommand(
      options,
      () => withCps(options, (s) => s.pinStatus()),
      (p) => (p.blocked ? 'Code porteur BLOQUÉ : débloquez-le avec « cardbridge cps unblock-pin ».' : `Essais restants : ${p.triesRemaining} sur ${p.maxTries}${p.verified ? ' (code déjà vérifié)' : ''}`),
    );
  });

  common(cps.command('verify-pin').description('Vérifie le code porteur (saisi sans écho, ou une ligne sur l\'entrée standard avec --pin-stdin)'))
    .option('--pin-stdin', "lire le code sur l'entrée standard")
    .action(async (options: CpsOptions) => {
      await runCommand(
        options,
        async () => {
          const [pin] = await readSecrets(['Code porteur : '], options.pinStdin === true);
          await withCps(options, (s) => s.verifyPin(pin!));
          return { verified: true };
        },
        () => 'Code porteur correct.',
      );
    });

  common(cps.command('change-pin').description('Change le code porteur (ancien puis nouveau)'))
    .option('--pin-stdin', "lire l'ancien puis le nouveau code sur l'entrée standard (une ligne chacun)")
    .action(async (options: CpsOptions) => {
      await runCommand(
        options,
        async () => {
          const [oldPin, newPin] = await readSecrets(['Code porteur actuel : ', 'Nouveau code porteur : '], options.pinStdin === true);
          await withCps(options, (s) => s.changePin(oldPin!, newPin!));
          return { ok: true };
        },
        () => 'Code porteur changé.',
      );
    });

  common(cps.command('unblock-pin').description('Débloque le code porteur avec le code de déblocage (PUK) et en fixe un nouveau'))
    .option('--pin-stdin', "lire le PUK puis le nouveau code sur l'entrée standard (une ligne chacun)")
    .action(async (options: CpsOptions) => {
      await runCommand(
        options,
        async () => {
          const [puk, newPin] = await readSecrets(['Code de déblocage (PUK) : ', 'Nouveau code porteur : '], options.pinStdin === true);
          await withCps(options, (s) => s.unblockPin(puk!, newPin!));
          return { ok: true };
        },
        () => 'Code porteur débloqué.',
      );
    });

  common(cps.command('sign').description('Signe une empreinte SHA-256 avec la clé de signature (non-répudiation) après le code porteur'))
    .option('--hash <sha256>', 'empreinte à signer (hexadécimal ou base64)', parseHash)
    .option('--file <chemin>', 'fichier dont signer l\'empreinte SHA-256')
    .option('--pss', 'signature RSA-PSS (CPS4 uniquement)')
    .option('--pin-stdin', "lire le code sur l'entrée standard")
    .action(async (options: CpsOptions & { hash?: Buffer; file?: string; pss?: boolean }, command: Command) => {
      if (!options.hash === !options.file) command.error('donnez --hash ou --file (un seul)');
      await runCommand(
        options,
        async () => {
          const hash = options.hash ?? createHash('sha256').update(await readFile(options.file!)).digest();
          const [pin] = await readSecrets(['Code porteur : '], options.pinStdin === true);
          return withCps(options, async (s) => {
            await s.verifyPin(pin!);
            const signature = await s.signHash(hash, { padding: options.pss ? 'PSS' : 'PKCS1' });
            const certs = await s.getCertificates();
            return { signature: Buffer.from(signature).toString('base64'), algorithm: options.pss ? 'PS256' : 'RS256', certificate: Buffer.from(certs.signature).toString('base64') };
          });
        },
        (r) => `Signature ${r.algorithm} (base64) :\n${r.signature}`,
      );
    });
}
