import fs from 'node:fs';
import { ConfigError } from '../common/config-error';

/**
 * How every feedloop process reaches Temporal, with the Temporal CLI's conventions, so that one
 * set of variables serves `temporal`, the workers and `feedloop`:
 *   TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE          (infra/env.ts)
 *   TEMPORAL_TLS=true                              TLS with the system's CAs (Temporal Cloud with an API key)
 *   TEMPORAL_TLS_CA                                PEM file: the CA that signed the server's certificate
 *   TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY            PEM files: this client's certificate and key (mTLS)
 *   TEMPORAL_TLS_SERVER_NAME                       the name the server's certificate carries, if not the host
 *   TEMPORAL_API_KEY                               an API key (implies TLS); never logged, never in a history
 * Any TLS variable turns TLS on. Worker entry points also take --tls-* flags for the files.
 */
export interface TemporalTlsSettings {
  tls?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
  apiKey?: string;
}

/** The options @temporalio/client's Connection and @temporalio/worker's NativeConnection share. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: boolean | { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
  apiKey?: string;
}

export function tlsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalTlsSettings {
  const value = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const tls = value('TEMPORAL_TLS');
  if (tls !== undefined && !['true', 'false', '1', '0'].includes(tls.toLowerCase())) {
    throw new ConfigError(`TEMPORAL_TLS: must be true or false, not ${JSON.stringify(tls)}`);
  }
  return {
    tls: tls === undefined ? undefined : ['true', '1'].includes(tls.toLowerCase()),
    caFile: value('TEMPORAL_TLS_CA'),
    certFile: value('TEMPORAL_TLS_CERT'),
    keyFile: value('TEMPORAL_TLS_KEY'),
    serverName: value('TEMPORAL_TLS_SERVER_NAME'),
    apiKey: value('TEMPORAL_API_KEY'),
  };
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Connection options for `address` under these settings; bad settings fail with the variable's name. */
export function temporalConnectionOptions(address: string, s: TemporalTlsSettings = tlsSettingsFromEnv()): TemporalConnectionOptions {
  if ((s.certFile === undefined) !== (s.keyFile === undefined)) {
    throw new ConfigError('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (--tls-cert, --tls-key): give both (mTLS) or neither');
  }
  const files = s.caFile !== undefined || s.certFile !== undefined || s.serverName !== undefined;
  const useTls = s.tls ?? (files || s.apiKey !== undefined);
  if (!useTls) {
    if (files) throw new ConfigError('TEMPORAL_TLS=false, but TEMPORAL_TLS_CA/CERT/KEY/SERVER_NAME are set');
    return { address };
  }
  const tls = files
    ? {
        ...(s.serverName ? { serverNameOverride: s.serverName } : {}),
        ...(s.caFile ? { serverRootCACertificate: readPem(s.caFile, 'TEMPORAL_TLS_CA') } : {}),
        ...(s.certFile && s.keyFile ? { clientCertPair: { crt: readPem(s.certFile, 'TEMPORAL_TLS_CERT'), key: readPem(s.keyFile, 'TEMPORAL_TLS_KEY') } } : {}),
      }
    : true;
  return { address, tls, ...(s.apiKey ? { apiKey: s.apiKey } : {}) };
}

/** Flags for the `temporal` CLI with the same settings (the API key travels in its environment). */
export function temporalCliTlsArgs(s: TemporalTlsSettings): string[] {
  const args: string[] = [];
  if (s.caFile) args.push('--tls-ca-path', s.caFile);
  if (s.certFile) args.push('--tls-cert-path', s.certFile);
  if (s.keyFile) args.push('--tls-key-path', s.keyFile);
  if (s.serverName) args.push('--tls-server-name', s.serverName);
  if (!args.length && (s.tls || s.apiKey)) args.push('--tls');
  return args;
}
