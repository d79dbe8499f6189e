// Secure messaging, service side (dmp-service.md, "Secure messaging and directory"):
//   GET    /v1/directory?name=&profession=&place=&limit=&cursor=   practitioners who logged in once
//   POST   /v1/messages            the DER EnvelopedData (application/pkcs7-mime, or JSON { envelope: base64 })
//   GET    /v1/messages            the caller's mailbox (id, sender, recipients, date, size, read)
//   GET    /v1/messages/{id}       the envelope (application/pkcs7-mime), to its recipients and sender only
//   POST   /v1/messages/{id}/read  read flag, in the caller's mailbox
//   DELETE /v1/messages/{id}       from the caller's mailbox only
// The service never decrypts: it reads the envelope's recipients (routingMetadata), maps them to
// practitioners by their authentication certificates' issuer + serial, and stores the opaque blob.
// No route lists or fetches another practitioner's mailbox.
export { messagingRoutes, configureMessaging, DEFAULT_MAILBOX_QUOTA_BYTES, type MessagingSettings } from './routes.js';
