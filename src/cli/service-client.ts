import { EXIT_CONFIG, StartupError } from '../common/startup-error';
import { CliArgs } from './cli-args';

/** Talks to a running instance's HTTP API with an admin key, like celery inspect talks to live workers. */
export class ServiceClient {
  readonly baseUrl: string;
  private readonly key: string | undefined;

  constructor(args: CliArgs, env: NodeJS.ProcessEnv) {
    this.baseUrl = (args.url ?? env.TASK_SERVICE_URL ?? `http://127.0.0.1:${env.PORT || 3000}`).replace(/\/+$/, '');
    this.key = args.key ?? env.TASK_SERVICE_API_KEY ?? env.ADMIN_API_KEY;
  }

  get<T = any>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T = any>(path: string): Promise<T> {
    return this.request<T>('POST', path);
  }

  private async request<T>(method: string, path: string): Promise<T> {
    if (!this.key)
      throw new StartupError('No API key: pass --key, or set TASK_SERVICE_API_KEY (or ADMIN_API_KEY)', EXIT_CONFIG);
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}` },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new Error(
        `Cannot reach the service at ${this.baseUrl} (${error.cause?.code ?? error.cause?.message ?? error.message}); set --url or TASK_SERVICE_URL`,
        { cause: error },
      );
    }
    const text = await response.text();
    const body = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const message =
        body && typeof body === 'object' && 'message' in body ? (body as { message: unknown }).message : text;
      throw new Error(
        `${method} ${path} failed with ${response.status}: ${Array.isArray(message) ? message.join('; ') : message}`,
      );
    }
    return body as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
