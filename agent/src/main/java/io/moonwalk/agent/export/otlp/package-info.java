/**
 * OTLP profiles export: encoding windows as profiles/v1development requests, the bounded send queue, gRPC and HTTP transports, retries, TLS.
 */
package io.moonwalk.agent.export.otlp;
