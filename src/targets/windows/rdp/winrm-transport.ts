// HTTP(S) for WinRM: one keep-alive connection per server, NTLMv2 (HTTP "Negotiate" carrying raw NTLMSSP, on the same
// connection for its two legs) or Basic, the server's certificate checked against the system roots or the
// integration's CA, a deadline on every request. Plain HTTP only when the admin opted in (allow_unencrypted).
// No error from here carries the password: every message passes through withoutSecret.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { OutageError, UserError } from '../../../core/errors.js';
import { authenticateMessage, negotiateMessage, ntlmIdentity, parseChallenge } from './ntlm.js';

export type WinrmAuth = 'ntlm' | 'basic';

export interface WinrmTarget {
  host: string;
  port: number;
  useSsl: boolean;
  /** The admin login: `user` (a local account), `DOMAIN\user` or `user@domain`. */
  user: string;
  password: string;
  auth: WinrmAuth;
  /** PEM of the CA that issued the server's certificate (tls_ca_file); else the system's roots. */
  tlsCa?: string;
  allowUnencrypted: boolean;
  /** Deadline of one HTTP request, in ms. */
  timeoutMs: number;
}

const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** True when the caller must warn at start: the server is reached over plain HTTP because the admin allowed it. */
export function warnsUnencrypted(target: Pick<WinrmTarget, 'useSsl' | 'allowUnencrypted'>): boolean {
  return !target.useSsl && target.allowUnencrypted;
}

export function endpointOf(target: Pick<WinrmTarget, 'host' | 'port' | 'useSsl'>): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.useSsl ? 'https' : 'http'}://${host}:${target.port}/wsman`;
}

/** Replaces the password wherever it appears (also base64-encoded, as in a Basic header). */
export function withoutSecret(text: string, secret: string): string {
  if (secret.length === 0) return text;
  const forms = [secret, Buffer.from(secret).toString('base64')];
  return forms.reduce((out, form) => out.split(form).join('***'), text);
}

interface Answer {
  status: number;
  authenticate: string[];
  body: string;
  socket: Socket;
  /** DER of the server's certificate (HTTPS), for NTLM's channel binding. */
  certificate?: Buffer;
}

const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/;

export class WinrmTransport {
  readonly endpoint: string;
  private readonly agent: http.Agent;

  constructor(private readonly target: WinrmTarget) {
    this.endpoint = endpointOf(target);
    if (!target.useSsl && !target.allowUnencrypted) {
      throw new UserError('config_invalid', `WinRM on ${target.host}:${target.port} is plain HTTP (use_ssl: false), which sends the admin login and every password Keyway sets unprotected: use HTTPS (port 5986), or set allow_unencrypted: true on the integration to accept that risk.`);
    }
    this.agent = target.useSsl
      ? new https.Agent({ keepAlive: true, maxSockets: 1, ...(target.tlsCa === undefined ? {} : { ca: target.tlsCa }) })
      : new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** Posts one SOAP envelope; answers the body of a 200 or 500 (a SOAP fault) response. */
  async post(xml: string): Promise<{ status: number; body: string }> {
    const answer = this.target.auth === 'basic' ? await this.postBasic(xml) : await this.postNtlm(xml);
    if (answer.status === 401) {
      throw new UserError('config_invalid', `WinRM on ${this.target.host}:${this.target.port} refused the login of ${this.target.user} (${this.target.auth === 'basic' ? 'Basic' : 'NTLM'}): check the rdp integration's user and secret, and that the account is a local administrator there.`);
    }
    if (answer.status !== 200 && answer.status !== 500) {
      throw new OutageError('remote_command_failed', `WinRM on ${this.target.host}:${this.target.port} answered HTTP ${answer.status}: ${this.scrub(answer.body.slice(0, 200))}`);
    }
    return { status: answer.status, body: answer.body };
  }

  close(): void {
    this.agent.destroy();
  }

  private async postBasic(xml: string): Promise<Answer> {
    const token = Buffer.from(`${this.target.user}:${this.target.password}`, 'utf8').toString('base64');
    return this.request(xml, `Basic ${token}`);
  }

  private async postNtlm(xml: string): Promise<Answer> {
    const first = await this.request('', `Negotiate ${negotiateMessage().toString('base64')}`);
    const challengeHeader = first.authenticate.map((h) => /^(?:Negotiate|NTLM) ([A-Za-z0-9+/=]+)$/.exec(h.trim())).find((m) => m !== null);
    if (first.status !== 401 || !challengeHeader) {
      if (first.status === 401) {
        throw new UserError('config_invalid', `WinRM on ${this.target.host}:${this.target.port} does not offer NTLM (it offers: ${first.authenticate.join(', ') || 'nothing'}): enable Negotiate in its WinRM service auth settings.`);
      }
      throw new OutageError('remote_command_failed', `WinRM on ${this.target.host}:${this.target.port} answered HTTP ${first.status} to the NTLM negotiation.`);
    }
    let challenge;
    try {
      challenge = parseChallenge(Buffer.from(challengeHeader[1]!, 'base64'));
    } catch (e) {
      throw new UserError('config_invalid', `WinRM on ${this.target.host}:${this.target.port}: ${(e as Error).message}.`);
    }
    if (this.target.useSsl && !first.certificate) {
      throw new OutageError('host_unreachable', `WinRM on ${this.target.host}:${this.target.port} presented no certificate to bind NTLM to.`);
    }
    const identity = ntlmIdentity(this.target.user, this.target.password);
    const authenticate = authenticateMessage(challenge, identity, first.certificate);
    const second = await this.request(xml, `Negotiate ${authenticate.toString('base64')}`);
    if (second.socket !== first.socket) {
      throw new OutageError('host_unreachable', `WinRM on ${this.target.host}:${this.target.port} closed the connection between the two legs of NTLM authentication.`);
    }
    return second;
  }

  private request(body: string, authorization: string): Promise<Answer> {
    const url = new URL(this.endpoint);
    const payload = Buffer.from(body, 'utf8');
    const send = this.target.useSsl ? https.request : http.request;
    return new Promise<Answer>((resolve, reject) => {
      const fail = (e: unknown) => reject(this.describe(e));
      const req = send({
        host: this.target.host, port: this.target.port, path: url.pathname, method: 'POST', agent: this.agent,
        headers: {
          'Content-Type': 'application/soap+xml;charset=UTF-8',
          'Content-Length': payload.length,
          'User-Agent': 'Keyway WinRM',
          Authorization: authorization,
        },
      }, (res) => {
        const socket = res.socket;
        const certificate = this.target.useSsl ? (socket as TLSSocket).getPeerCertificate().raw : undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new Error('the answer is larger than 16 MiB'));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            authenticate: res.headersDistinct['www-authenticate'] ?? [],
            body: Buffer.concat(chunks).toString('utf8'),
            socket,
            ...(certificate === undefined ? {} : { certificate }),
          });
        });
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${this.target.timeoutMs} ms`), { code: 'KEYWAY_TIMEOUT' })), this.target.timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
      req.end(payload);
    });
  }

  private describe(e: unknown): Error {
    if (e instanceof UserError) return e;
    const where = `WinRM on ${this.target.host}:${this.target.port}`;
    const code = (e as { code?: string }).code ?? '';
    const message = this.scrub((e as Error).message ?? String(e));
    if (CERTIFICATE_ERROR.test(code)) {
      return new UserError('host_key_mismatch', `${where} presented a certificate Keyway does not trust (${code}: ${message}): set tls_ca_file to the CA that issued it, and make sure the certificate names ${this.target.host}.`);
    }
    return new OutageError('host_unreachable', `${where} cannot be reached: ${code ? `${code}: ` : ''}${message}.`);
  }

  private scrub(text: string): string {
    return withoutSecret(text, this.target.password);
  }
}
