// Textual IPv4 / IPv6 addresses to the 4 / 16 bytes a subjectAltName iPAddress holds.
import { isIPv4, isIPv6 } from 'node:net';

function ipv4Bytes(text: string): number[] {
  return text.split('.').map((part) => Number(part));
}

function ipv6Bytes(text: string): number[] {
  let address = text;
  const tail: number[] = [];
  const lastColon = address.lastIndexOf(':');
  const last = address.slice(lastColon + 1);
  if (last.includes('.')) {
    // embedded IPv4 (::ffff:127.0.0.1): two 16-bit groups
    tail.push(...ipv4Bytes(last));
    address = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...restGroups];
  const bytes = groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The address bytes, or null when the text is not an IP address (a DNS name then). */
export function ipAddressBytes(text: string): Uint8Array | null {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(unbracketed)) return new Uint8Array(ipv4Bytes(unbracketed));
  if (isIPv6(unbracketed) && !unbracketed.includes('%')) return new Uint8Array(ipv6Bytes(unbracketed));
  return null;
}
