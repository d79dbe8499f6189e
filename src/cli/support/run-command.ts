// Runs a CLI action: prints its result (French text, or JSON with --json) and turns every known
// failure into one clear French line and a non-zero exit code, never a stack trace.
import { CardError } from '../../cards/errors.js';
import { TransportError } from '../../transport/errors.js';
import { CliError } from './reader-access.js';

export interface OutputOptions {
  json?: boolean;
}

export async function runCommand<T>(options: OutputOptions, action: () => Promise<T>, render: (result: T) => string): Promise<void> {
  try {
    const result = await action();
    process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${render(result)}\n`);
  } catch (error) {
    const { code, message } = describe(error);
    if (options.json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    process.stderr.write(`Erreur : ${message}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}

function describe(error: unknown): { code: string; message: string } {
  if (error instanceof CliError) return { code: error.code, message: error.message };
  if (error instanceof CardError) {
    const tries = error.triesRemaining === undefined ? '' : ` (essais restants : ${error.triesRemaining})`;
    return { code: error.code, message: `${error.messageIn('fr')}${tries}` };
  }
  if (error instanceof TransportError) {
    const fr: Record<string, string> = {
      CARD_REMOVED: "La carte a été retirée pendant l'opération.",
      PCSC_UNAVAILABLE: 'Le service des cartes à puce (pcscd) est indisponible.',
      CARD_RESET: 'La carte a été réinitialisée par une autre application : recommencez.',
    };
    return { code: error.code, message: fr[error.code] ?? error.message };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
