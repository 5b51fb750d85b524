import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { parse, Type } from 'protobufjs';

/**
 * The part of OTLP's trace schema (opentelemetry-proto, collector/trace/v1) a test reads:
 * protobufjs decodes by field number and skips the fields left out here.
 */
const OTLP_TRACE_SUBSET = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { Scope scope = 1; repeated Span spans = 2; }
message Scope { string name = 1; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  repeated KeyValue attributes = 9;
}
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; }
}
`;

const REQUEST: Type = parse(OTLP_TRACE_SUBSET, { keepCase: false }).root.lookupType('otlp.ExportTraceServiceRequest');

export enum SpanKind {
  INTERNAL = 1,
  SERVER = 2,
  CLIENT = 3,
  PRODUCER = 4,
  CONSUMER = 5,
}

/** One received span, flattened with its resource's and its own attributes. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  scope: string;
  resource: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

interface KeyValue {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number };
}

function attributes(list: KeyValue[] = []): Record<string, unknown> {
  return Object.fromEntries(
    list.map(({ key, value }) => [
      key,
      value?.stringValue ??
        value?.boolValue ??
        (value?.intValue !== undefined ? Number(value.intValue) : undefined) ??
        value?.doubleValue,
    ]),
  );
}

const hex = (bytes?: Uint8Array) => Buffer.from(bytes ?? []).toString('hex');

export interface OtlpCollector {
  /** The base URL for `OTEL_EXPORTER_OTLP_ENDPOINT` (the exporter appends /v1/traces). */
  url: string;
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

/** A local OTLP/HTTP endpoint that accepts protobuf trace exports and keeps the spans in memory. */
export async function startOtlpCollector(): Promise<OtlpCollector> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const decoded = REQUEST.toObject(REQUEST.decode(body), { longs: String, defaults: true }) as {
        resourceSpans: {
          resource?: { attributes: KeyValue[] };
          scopeSpans: { scope?: { name: string }; spans: any[] }[];
        }[];
      };
      for (const resourceSpans of decoded.resourceSpans) {
        const resource = attributes(resourceSpans.resource?.attributes);
        for (const scopeSpans of resourceSpans.scopeSpans) {
          for (const span of scopeSpans.spans) {
            spans.push({
              traceId: hex(span.traceId),
              spanId: hex(span.spanId),
              parentSpanId: hex(span.parentSpanId),
              name: span.name,
              kind: span.kind,
              scope: scopeSpans.scope?.name ?? '',
              resource,
              attributes: attributes(span.attributes),
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
