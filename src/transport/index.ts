// The transport layer: CardChannel (what card sessions talk to), its PC/SC and in-process
// implementations, the reader monitor, and the rule on virtual readers.
export type { CardChannel } from './card-channel.js';
export { TransportError, type TransportErrorCode, type TransportErrorOptions } from './errors.js';
export { RawCardChannel } from './raw-channel.js';
export { exchangeCommand } from './exchange.js';
export type { PcscLite, PcscProvider, PcscReader, PcscReaderStatus, PcscConstants, PcscConnectOptions } from './pcsc-types.js';
export { loadPcsclite, type ModuleImporter } from './load-pcsclite.js';
export { PCSC_CODE, pcscCodeOf, toTransportError, transportCodeOf } from './pcsc-errors.js';
export { DEFAULT_MAX_RESPONSE_LENGTH, PcscCardChannel, type DisconnectDisposition, type PcscCardChannelOptions } from './pcsc-card-channel.js';
export { readerFeatures, type ControlChannel } from './reader-features.js';
export {
  ReaderMonitor,
  type CardInsertedEvent,
  type CardRemovedEvent,
  type PcscStatus,
  type PcscStatusEvent,
  type ReaderCard,
  type ReaderInfo,
  type ReaderMonitorEvents,
  type ReaderMonitorOptions,
  type ReadersChangedEvent,
} from './reader-monitor.js';
export { ALLOW_VIRTUAL_READERS_ENV, isReaderAllowed, isVirtualReaderName, virtualReadersAllowed } from './virtual-readers.js';
