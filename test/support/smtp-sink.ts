import { ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { freePort } from './processes';

/** One message the sink accepted, as it came over the wire. */
export interface ReceivedMessage {
  from: string;
  /** RCPT TO addresses (Bcc included), as given. */
  to: string[];
  raw: Buffer;
  /** The session was TLS (STARTTLS or implicit). */
  secure: boolean;
  /** The user that authenticated, if any. */
  user?: string;
}

export interface SmtpSinkOptions {
  /** Require AUTH with these credentials (PLAIN/LOGIN). */
  auth?: { user: string; pass: string };
  /** Offer STARTTLS (smtp-server's built-in self-signed certificate). */
  starttls?: boolean;
  /** Keep raw messages (off for benchmarks: memory stays flat). */
  keepMessages?: boolean;
}

type Stage = 'mail' | 'rcpt' | 'data';

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/**
 * A real SMTP server (npm `smtp-server`) in the test process: records what arrives and can
 * answer with temporary (4xx) or permanent (5xx) errors, reject chosen recipients, or go down
 * and come back on the same port.
 */
export class SmtpSink {
  readonly messages: ReceivedMessage[] = [];
  /** Messages accepted, also when they are not kept. */
  accepted = 0;
  private readonly failures: { stage: Stage; remaining: number; code: number; text: string }[] = [];
  private readonly rejected = new Map<string, { code: number; text: string }>();
  private server: SMTPServer | null = null;

  private constructor(
    readonly port: number,
    private readonly options: SmtpSinkOptions,
  ) {}

  static async start(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
    const sink = new SmtpSink(await freePort(), { keepMessages: true, ...options });
    await sink.listen();
    return sink;
  }

  /** An `SMTP_URL` for the service. */
  get url(): string {
    const auth = this.options.auth
      ? `${encodeURIComponent(this.options.auth.user)}:${encodeURIComponent(this.options.auth.pass)}@`
      : '';
    const query = this.options.starttls ? '?requireTLS=true&tls.rejectUnauthorized=false' : '';
    return `smtp://${auth}127.0.0.1:${this.port}/${query}`;
  }

  /** The next `count` commands of `stage` get `code text` (e.g. 451 while "busy"). */
  failNext(stage: Stage, count: number, code = 451, text = '4.3.0 Temporary failure, try again later'): void {
    this.failures.push({ stage, remaining: count, code, text });
  }

  /** RCPT TO `address` is answered with `code` (550 by default). */
  rejectRecipient(address: string, code = 550, text = '5.1.1 Mailbox does not exist'): void {
    this.rejected.set(address.toLowerCase(), { code, text });
  }

  recipients(): string[] {
    return this.messages.flatMap((m) => m.to);
  }

  parse(message: ReceivedMessage): Promise<ParsedMail> {
    return simpleParser(message.raw);
  }

  async waitForMessages(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.accepted < count) {
      if (Date.now() > deadline)
        throw new Error(`The SMTP sink got ${this.accepted} of ${count} messages within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops listening and drops every open connection: clients now get "connection refused". */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    if (!this.server) await this.listen();
  }

  private takeFailure(stage: Stage): Error | null {
    const failure = this.failures.find((f) => f.stage === stage && f.remaining > 0);
    if (!failure) return null;
    failure.remaining--;
    return smtpError(failure.code, failure.text);
  }

  private listen(): Promise<void> {
    const { auth, starttls } = this.options;
    const server = new SMTPServer({
      logger: false,
      authOptional: !auth,
      allowInsecureAuth: !starttls,
      disabledCommands: starttls ? [] : ['STARTTLS'],
      closeTimeout: 50,
      disableReverseLookup: true,
      size: 30 * 1024 * 1024,
      onAuth: (credentials, _session, callback) => {
        if (auth && credentials.username === auth.user && credentials.password === auth.pass)
          return callback(null, { user: auth.user });
        callback(smtpError(535, '5.7.8 Authentication failed'));
      },
      onMailFrom: (_address: SMTPServerAddress, _session: SMTPServerSession, callback) =>
        callback(this.takeFailure('mail')),
      onRcptTo: (address: SMTPServerAddress, _session: SMTPServerSession, callback) => {
        const rejection = this.rejected.get(address.address.toLowerCase());
        if (rejection) return callback(smtpError(rejection.code, `${rejection.text} <${address.address}>`));
        callback(this.takeFailure('rcpt'));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => this.options.keepMessages && chunks.push(chunk));
        stream.on('end', () => {
          const failure = this.takeFailure('data');
          if (failure) return callback(failure);
          this.accepted++;
          if (this.options.keepMessages) {
            this.messages.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: Buffer.concat(chunks),
              secure: session.secure,
              user: session.user,
            });
          }
          callback(null, `2.0.0 Ok: queued as sink-${this.accepted}`);
        });
      },
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.on('error', () => undefined);
      const net = server.listen(this.port, '127.0.0.1', () => resolve());
      // Replies go out at once (as from a real MTA) instead of waiting on Nagle for the client's delayed ACK.
      net.on('connection', (socket) => socket.setNoDelay(true));
      net.once('error', reject);
    });
  }
}
