// Which readers cardbridge may talk to. vsmartcard-vpcd's readers (`Virtual PCD 00 00`, …) accept
// a "card" from anyone who reaches its TCP ports on any network interface: on a production
// workstation a stranger could insert a fake card and collect a PIN. They are ignored unless the
// user asks for them (`--allow-virtual-readers` or CARDBRIDGE_ALLOW_VIRTUAL_READERS=1), by the
// agent and by every CLI command that talks to readers.

export const ALLOW_VIRTUAL_READERS_ENV = 'CARDBRIDGE_ALLOW_VIRTUAL_READERS';

const VIRTUAL_READER_NAME = /^virtual pcd(?:\s|$)/i;

/** A reader of vsmartcard-vpcd (pcscd's virtual reader driver). */
export function isVirtualReaderName(name: string): boolean {
  return VIRTUAL_READER_NAME.test(name);
}

/** Virtual readers are allowed by the option (true) or by CARDBRIDGE_ALLOW_VIRTUAL_READERS=1. */
export function virtualReadersAllowed(option?: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return option === true || env[ALLOW_VIRTUAL_READERS_ENV] === '1';
}

/** Whether a reader of this name may be used, given the result of virtualReadersAllowed(). */
export function isReaderAllowed(name: string, allowVirtualReaders: boolean): boolean {
  return allowVirtualReaders || !isVirtualReaderName(name);
}
