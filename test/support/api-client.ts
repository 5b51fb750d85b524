import { TaskState } from '../../src/tasks/task-state';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client for the e2e specs: real requests to the running service. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey?: string,
  ) {}

  as(apiKey: string | undefined): ApiClient {
    return new ApiClient(this.baseUrl, apiKey);
  }

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, undefined, headers);
  }

  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body ?? {}, headers);
  }

  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }

  /** Submits a task and expects 202. */
  async submit(name: string, args: Record<string, unknown> = {}, options?: Record<string, unknown>): Promise<any> {
    const response = await this.post('/tasks', { name, args, options });
    if (response.status !== 202)
      throw new Error(`Submit ${name} gave ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** Polls GET /tasks/:id until the state is one of `states` (default: any final state). */
  async waitForTask(
    id: string,
    states: TaskState[] = [TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED],
    timeoutMs = 60_000,
  ): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last: any;
    while (Date.now() < deadline) {
      const response = await this.get(`/tasks/${id}`);
      last = response.body;
      if (response.status === 200 && states.includes(last.state)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `Task ${id} did not reach ${states.join('/')} within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`,
    );
  }
}
