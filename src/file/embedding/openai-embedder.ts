import { UnrecoverableError } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { Embedder, normalise } from './embedder';

export interface OpenAiEmbedderOptions {
  /** The full endpoint, e.g. `https://api.openai.com/v1/embeddings`. */
  url: string;
  model: string;
  apiKey?: string;
  batchSize: number;
  attempts: number;
  timeoutMs: number;
  /** Delay before the first retry; doubles each time, with jitter. */
  backoffMs?: number;
}

/**
 * Any OpenAI-compatible `/embeddings` endpoint (OpenAI, Azure-style gateways, vLLM, Ollama,
 * LiteLLM…). Batches inputs, retries 408/429/5xx and network errors with exponential backoff
 * (honouring `Retry-After`), and treats other 4xx as permanent. Vectors are re-normalised.
 */
export class OpenAiEmbedder implements Embedder {
  readonly local = false;
  readonly model: string;

  constructor(private readonly options: OpenAiEmbedderOptions) {
    this.model = `openai:${options.model}`;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.options.batchSize) {
      vectors.push(...(await this.embedBatch(texts.slice(i, i + this.options.batchSize), signal)));
    }
    return vectors;
  }

  private async embedBatch(input: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    let lastError: Error = new Error('no attempt made');
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: this.options.model, input }),
          signal: signal
            ? AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)])
            : AbortSignal.timeout(this.options.timeoutMs),
        });
        if (response.ok) return parseEmbeddings(await response.json(), input.length);
        const detail = (await response.text().catch(() => '')).slice(0, 300);
        lastError = new Error(`Embeddings endpoint answered ${response.status}: ${detail}`);
        if (response.status !== 408 && response.status !== 429 && response.status < 500)
          throw new UnrecoverableError(lastError.message);
        const header = Number(response.headers.get('retry-after'));
        retryAfterMs = Number.isFinite(header) && header > 0 ? Math.min(header * 1000, 30_000) : undefined;
      } catch (error) {
        if (error instanceof UnrecoverableError || signal?.aborted) throw error;
        if (!lastError.message.startsWith('Embeddings endpoint answered'))
          lastError = new Error(`Embeddings request failed: ${error.message}`);
        if (error instanceof InvalidEmbeddingsResponse) throw new UnrecoverableError(error.message);
      }
      if (attempt < this.options.attempts) {
        const base = (this.options.backoffMs ?? 500) * 2 ** (attempt - 1);
        await sleep(retryAfterMs ?? base * (0.5 + Math.random()), undefined, { signal });
      }
    }
    throw lastError;
  }
}

class InvalidEmbeddingsResponse extends Error {}

function parseEmbeddings(body: unknown, expected: number): Float32Array[] {
  const data = (body as { data?: { embedding?: unknown; index?: number }[] })?.data;
  if (!Array.isArray(data) || data.length !== expected) {
    throw new InvalidEmbeddingsResponse(
      `Embeddings endpoint returned ${Array.isArray(data) ? data.length : 'no'} vectors for ${expected} inputs`,
    );
  }
  const ordered = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  return ordered.map((item) => {
    if (!Array.isArray(item.embedding) || item.embedding.some((x) => typeof x !== 'number'))
      throw new InvalidEmbeddingsResponse('Embeddings endpoint returned a vector that is not a list of numbers');
    return normalise(Float32Array.from(item.embedding as number[]));
  });
}
