// Reading a PIN or PUK for a CLI command: from the terminal without echo, or from standard input
// with --pin-stdin (for scripts). Never from the command line, where `ps` would show it.
import { createInterface } from 'node:readline';

/** Reads one secret per line from stdin (piped), in order. */
export async function readSecretsFromStdin(count: number): Promise<string[]> {
  const lines: string[] = [];
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    lines.push(line.trim());
    if (lines.length === count) break;
  }
  rl.close();
  if (lines.length < count) throw new Error(`${count} ligne(s) attendue(s) sur l'entrée standard, ${lines.length} reçue(s)`);
  return lines;
}

/** Prompts on the terminal and reads without echoing what is typed. */
export function promptSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new Error("pas de terminal pour saisir le code : utilisez --pin-stdin"));
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new Error('saisie annulée'));
          return;
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

export async function readSecrets(prompts: string[], fromStdin: boolean): Promise<string[]> {
  if (fromStdin) return readSecretsFromStdin(prompts.length);
  const out: string[] = [];
  for (const p of prompts) out.push(await promptSecret(p));
  return out;
}
