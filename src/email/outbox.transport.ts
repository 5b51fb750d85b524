// The old name of the mail drop, kept until mailer-options.ts (not this change's file) imports
// MailDropTransport from './mail-drop.transport'; then this file goes.
export { MailDropTransport as OutboxTransport } from './mail-drop.transport';
