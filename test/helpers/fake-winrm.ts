// A stand-in for a Windows server's WinRM service (MS-WSMV, WS-Management over SOAP 1.2), written from the
// references: HTTPS with a test certificate (or plain HTTP), NTLMv2 over "Negotiate" on one keep-alive connection,
// and Basic. It checks every envelope (Action, ResourceURI, ShellId selector, MessageID, To, ReplyTo) and answers as
// WinRM does (ResourceCreated, CommandResponse, ReceiveResponse with base64 streams and CommandState Done,
// SendResponse, SignalResponse, DeleteResponse; a w:TimedOut fault when a Receive has nothing yet). Commands: it
// decodes powershell.exe -EncodedCommand and runs exactly the operations remote-commands.ts emits, on local
// accounts, groups and sessions that tests read and set; quser and logoff; anything else fails as Windows would.
import { randomUUID, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { KEYWAY_MARKER, POWERSHELL_BODIES, type PowerShellOperation } from '../../src/targets/windows/rdp/remote-commands.js';
import {
  ACTION, ANONYMOUS, COMMAND_STATE_DONE, NS, SHELL_RESOURCE_URI, SIGNAL_TERMINATE, WSMAN_TIMED_OUT_CODE,
} from '../../src/targets/windows/rdp/wsman-messages.js';
import { escapeXml, findAll, findFirst, parseXml, type XmlElement } from '../../src/targets/windows/rdp/xml.js';
import { challengeFor, verifyAuthenticate, type IssuedChallenge } from './fake-winrm-ntlm.js';
import { listenLocally, type LocalServer } from './local-server.js';

export interface FakeAccount {
  name: string;
  password: string;
  enabled: boolean;
  description: string;
  expires: Date | null;
  passwordNeverExpires: boolean;
  userMayChangePassword: boolean;
}

export interface FakeWinrmOptions {
  /** PEM key and certificate: HTTPS. Without them: plain HTTP. */
  tls?: { keyPem: string; certPem: string };
  adminUser?: string;
  adminPassword: string;
  /** Accept Basic (WinRM's Auth/Basic); default true. */
  basic?: boolean;
  /** Accept Negotiate (NTLM); default true. */
  ntlm?: boolean;
  /** Answer this many Receives of each command with the w:TimedOut fault first (a slow command). */
  timedOutReceives?: number;
  /** Hand stdout out over two Receives, the first with CommandState Running. */
  outputInTwoParts?: boolean;
  /** Loopback address to listen on (default 127.0.0.1). */
  listenHost?: string;
  computerName?: string;
  groups?: string[];
}

interface ShellCommand {
  consoleStdin: boolean;
  command: string;
  args: string[];
  stdin: Buffer[];
  stdinEnded: boolean;
  done: boolean;
  receives: number;
  outcome?: Outcome;
}

interface ConnectionState {
  challenge?: IssuedChallenge;
  authenticated: boolean;
}

interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const POWERSHELL_ARGS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand'];

export class FakeWinrm {
  readonly accounts = new Map<string, FakeAccount>();
  /** Local groups by name, each with its members (`kw-ana` or `CORP\kw-ana`). */
  readonly groups = new Map<string, Set<string>>();
  /** Logged-on sessions: ID → user name. */
  readonly sessions = new Map<number, string>();
  /** Every SOAP request that passed authentication: its Action and raw XML. */
  readonly requests: { action: string; xml: string; auth: 'ntlm' | 'basic' }[] = [];
  /** Every decoded PowerShell script and every command line that ran. */
  readonly scripts: string[] = [];
  readonly commandLines: string[] = [];
  /** Envelope problems found (a well-behaved client leaves this empty). */
  readonly envelopeErrors: string[] = [];
  /** Failed logins, with why (for tests; never the password). */
  readonly loginFailures: string[] = [];

  private readonly server: http.Server;
  private readonly shells = new Map<string, Map<string, ShellCommand>>();
  private readonly seenMessageIds = new Set<string>();
  private readonly connections = new WeakMap<Socket, ConnectionState>();
  private readonly certificateDer: Buffer | undefined;
  private readonly adminUser: string;
  private readonly computerName: string;
  private nextSession = 2;
  port = 0;
  private listening: LocalServer | undefined;
  /** TCP connections accepted (a client refused before sending leaves this at 0). */
  connectionCount = 0;

  private constructor(private readonly options: FakeWinrmOptions) {
    this.adminUser = options.adminUser ?? 'Administrator';
    this.computerName = options.computerName ?? 'WIN-RDP1';
    for (const group of options.groups ?? ['Administrators', 'Remote Desktop Users', 'Users', 'Backup Operators']) this.groups.set(group, new Set());
    this.certificateDer = options.tls ? new X509Certificate(options.tls.certPem).raw : undefined;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = options.tls ? https.createServer({ key: options.tls.keyPem, cert: options.tls.certPem }, handler) : http.createServer(handler);
    this.server.on('connection', () => this.connectionCount++);
  }

  static async start(options: FakeWinrmOptions): Promise<FakeWinrm> {
    const fake = new FakeWinrm(options);
    fake.listening = await listenLocally(fake.server, options.listenHost);
    fake.port = fake.listening.port;
    return fake;
  }

  async close(): Promise<void> {
    await this.listening?.close();
  }

  get scheme(): 'http' | 'https' {
    return this.options.tls ? 'https' : 'http';
  }

  account(name: string): FakeAccount | undefined {
    return this.accounts.get(name.toLowerCase());
  }

  /** Adds an account as an admin would (no Keyway marker unless given). */
  addAccount(name: string, password: string, description = ''): FakeAccount {
    const account: FakeAccount = { name, password, enabled: true, description, expires: null, passwordNeverExpires: false, userMayChangePassword: true };
    this.accounts.set(name.toLowerCase(), account);
    return account;
  }

  membersOf(group: string): string[] {
    return [...(this.groups.get(group) ?? [])];
  }

  isMember(group: string, member: string): boolean {
    return this.membersOf(group).some((m) => m.toLowerCase() === member.toLowerCase());
  }

  /** A logon as Windows would judge it: the account exists, is enabled, not expired, and the password matches. */
  logonWorks(name: string, password: string, now = new Date()): boolean {
    const account = this.account(name);
    return account !== undefined && account.enabled && account.password === password && (account.expires === null || account.expires > now);
  }

  /** Logs `user` on (an RDP session); answers the session ID. */
  addSession(user: string): number {
    const id = this.nextSession++;
    this.sessions.set(id, user);
    return id;
  }

  sessionsOf(user: string): number[] {
    return [...this.sessions].filter(([, u]) => u.toLowerCase() === user.toLowerCase()).map(([id]) => id);
  }

  // --- HTTP and authentication ---

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.respond(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`stand-in error: ${(e as Error).message}`);
      }
    });
  }

  private respond(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    if (req.method !== 'POST' || req.url !== '/wsman') {
      res.writeHead(404).end();
      return;
    }
    const state = this.connections.get(req.socket) ?? { authenticated: false };
    this.connections.set(req.socket, state);
    const authorization = req.headers.authorization ?? '';
    const offered = [...(this.options.ntlm === false ? [] : ['Negotiate']), ...(this.options.basic === false ? [] : ['Basic realm="WSMAN"'])];
    const unauthorized = (headers: Record<string, string | string[]> = { 'WWW-Authenticate': offered }) => {
      res.writeHead(401, { ...headers, 'Content-Length': '0' }).end();
    };

    let auth: 'ntlm' | 'basic';
    const [scheme, token = ''] = authorization.split(' ', 2);
    if (scheme === 'Basic' && this.options.basic !== false) {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (decoded.slice(0, colon).toLowerCase() !== this.adminUser.toLowerCase() || decoded.slice(colon + 1) !== this.options.adminPassword) {
        this.loginFailures.push('basic: wrong user or password');
        unauthorized();
        return;
      }
      auth = 'basic';
    } else if (scheme === 'Negotiate' && this.options.ntlm !== false) {
      const message = Buffer.from(token, 'base64');
      if (message.length >= 12 && message.readUInt32LE(8) === 1) {
        state.challenge = challengeFor(message, this.computerName, 'WORKGROUP');
        state.authenticated = false;
        unauthorized({ 'WWW-Authenticate': `Negotiate ${state.challenge.message.toString('base64')}` });
        return;
      }
      if (!state.challenge) {
        this.loginFailures.push('ntlm: AUTHENTICATE on a connection that got no CHALLENGE');
        unauthorized();
        return;
      }
      const verdict = verifyAuthenticate(message, state.challenge, { user: this.adminUser, password: this.options.adminPassword }, this.certificateDer);
      state.challenge = undefined;
      if (!verdict.ok) {
        this.loginFailures.push(`ntlm: ${verdict.reason}`);
        unauthorized();
        return;
      }
      state.authenticated = true;
      auth = 'ntlm';
    } else if (state.authenticated && authorization === '') {
      auth = 'ntlm'; // an NTLM-authenticated connection stays authenticated
    } else {
      unauthorized();
      return;
    }

    if (!/^application\/soap\+xml/i.test(req.headers['content-type'] ?? '')) {
      res.writeHead(415).end();
      return;
    }
    const { status, xml } = this.soap(body, req.headers.host ?? '', auth);
    res.writeHead(status, { 'Content-Type': 'application/soap+xml;charset=UTF-8', 'Content-Length': Buffer.byteLength(xml) }).end(xml);
  }

  // --- SOAP ---

  private soap(body: string, host: string, auth: 'ntlm' | 'basic'): { status: number; xml: string } {
    let envelope: XmlElement;
    try {
      envelope = parseXml(body);
    } catch (e) {
      return this.fault('s:Sender', 'w:SchemaValidationError', `The SOAP XML in the message does not match the corresponding XML schema definition: ${(e as Error).message}`);
    }
    const header = envelope.name === 'Envelope' ? findFirst(envelope, 'Header') : undefined;
    const soapBody = envelope.name === 'Envelope' ? findFirst(envelope, 'Body') : undefined;
    const text = (name: string) => (header && findFirst(header, name)?.text.trim()) ?? '';
    const action = text('Action');
    const messageId = text('MessageID');
    const problems = [
      !header || !soapBody ? 'not a SOAP envelope with Header and Body' : '',
      text('To') === `${this.scheme}://${host}/wsman` ? '' : `To is ${JSON.stringify(text('To'))}, not ${this.scheme}://${host}/wsman`,
      /^uuid:[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i.test(messageId) ? '' : `MessageID ${JSON.stringify(messageId)} is not a uuid: URI`,
      this.seenMessageIds.has(messageId) ? `MessageID ${messageId} was used before` : '',
      text('ResourceURI') === SHELL_RESOURCE_URI ? '' : `ResourceURI ${JSON.stringify(text('ResourceURI'))} is not the cmd shell`,
      header && findFirst(findFirst(header, 'ReplyTo') ?? header, 'Address')?.text.trim() === ANONYMOUS ? '' : 'ReplyTo is not the anonymous role',
      /^[0-9]+$/.test(text('MaxEnvelopeSize')) ? '' : 'MaxEnvelopeSize is missing',
      /^PT[0-9.]+S$/.test(text('OperationTimeout')) ? '' : 'OperationTimeout is missing',
    ].filter(Boolean);
    if (problems.length > 0) {
      this.envelopeErrors.push(...problems);
      return this.fault('s:Sender', 'w:InvalidHeader', `The WS-Management service cannot process a SOAP header in the request: ${problems.join('; ')}`);
    }
    this.seenMessageIds.add(messageId);
    this.requests.push({ action, xml: body, auth });
    const reply = (responseAction: string, content: string) => ({ status: 200, xml: this.envelope(responseAction, messageId, content) });
    const shellId = header && findAll(header, 'Selector').find((s) => s.attributes['Name'] === 'ShellId')?.text.trim();

    if (action === ACTION.create) {
      const shell = findFirst(soapBody!, 'Shell');
      if (!shell || findFirst(shell, 'OutputStreams')?.text.trim() !== 'stdout stderr') {
        return this.invalid('Create needs a Shell with OutputStreams "stdout stderr"');
      }
      const id = randomUUID().toUpperCase();
      this.shells.set(id, new Map());
      return reply(`${NS.transfer}/CreateResponse`, `<x:ResourceCreated xmlns:x="${NS.transfer}"><a:Address>${this.scheme}://${escapeXml(host)}/wsman</a:Address>`
        + `<a:ReferenceParameters><w:ResourceURI>${SHELL_RESOURCE_URI}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">${id}</w:Selector>`
        + `</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`);
    }
    const commands = shellId === undefined ? undefined : this.shells.get(shellId);
    if (!commands) {
      this.envelopeErrors.push(`${action} names no live shell (${shellId ?? 'no ShellId selector'})`);
      return this.fault('s:Sender', 'w:InvalidSelectors', 'The WS-Management service cannot process the request because the request contained invalid selectors for the resource.');
    }
    if (action === ACTION.delete) {
      this.shells.delete(shellId!);
      return reply(`${NS.transfer}/DeleteResponse`, '');
    }
    if (action === ACTION.command) {
      const line = findFirst(soapBody!, 'CommandLine');
      const command = line && findFirst(line, 'Command')?.text.trim();
      if (!command) return this.invalid('Command needs a CommandLine with a Command');
      const id = randomUUID().toUpperCase();
      const consoleStdin = findAll(header!, 'Option').find((o) => o.attributes['Name'] === 'WINRS_CONSOLEMODE_STDIN')?.text.trim() !== 'FALSE';
      commands.set(id, { consoleStdin, command, args: findAll(line, 'Arguments').map((a) => a.text), stdin: [], stdinEnded: false, done: false, receives: 0 });
      return reply(`${NS.shell}/CommandResponse`, `<rsp:CommandResponse><rsp:CommandId>${id}</rsp:CommandId></rsp:CommandResponse>`);
    }
    const commandIdIn = (name: string) => (soapBody && findFirst(soapBody, name)?.attributes['CommandId']) ?? '';
    if (action === ACTION.send) {
      const stream = findFirst(soapBody!, 'Stream');
      const running = commands.get(commandIdIn('Stream'));
      if (!stream || stream.attributes['Name'] !== 'stdin' || !running) return this.invalid('Send needs a stdin Stream of a running command');
      // A console stdin (WINRS_CONSOLEMODE_STDIN TRUE) is not the pipe a script reads with [Console]::In.
      if (running.consoleStdin) return this.invalid('Send to a command started with WINRS_CONSOLEMODE_STDIN TRUE');
      running.stdin.push(Buffer.from(stream.text.trim(), 'base64'));
      if (stream.attributes['End'] === 'true') running.stdinEnded = true;
      return reply(`${NS.shell}/SendResponse`, '<rsp:SendResponse/>');
    }
    if (action === ACTION.receive) {
      const commandId = commandIdIn('DesiredStream');
      const running = commands.get(commandId);
      if (!running || running.done) return this.invalid(`Receive for an unknown or finished command ${commandId}`);
      running.receives++;
      if ((this.needsStdin(running) && !running.stdinEnded) || running.receives <= (this.options.timedOutReceives ?? 0)) {
        return this.fault('s:Receiver', 'w:TimedOut', 'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.', WSMAN_TIMED_OUT_CODE);
      }
      const outcome = running.outcome ?? this.execute(running);
      const stream = (name: string, data: string, end: boolean) => `<rsp:Stream Name="${name}" CommandId="${commandId}"${end && !data ? ' End="true"' : ''}>${Buffer.from(data, 'utf8').toString('base64')}</rsp:Stream>`
        + (end && data ? `<rsp:Stream Name="${name}" CommandId="${commandId}" End="true"></rsp:Stream>` : '');
      if (this.options.outputInTwoParts && running.outcome === undefined) {
        running.outcome = { ...outcome, stdout: outcome.stdout.slice(Math.ceil(outcome.stdout.length / 2)) };
        return reply(`${NS.shell}/ReceiveResponse`, `<rsp:ReceiveResponse>${stream('stdout', outcome.stdout.slice(0, Math.ceil(outcome.stdout.length / 2)), false)}`
          + `<rsp:CommandState CommandId="${commandId}" State="${NS.shell}/CommandState/Running"/></rsp:ReceiveResponse>`);
      }
      running.done = true;
      return reply(`${NS.shell}/ReceiveResponse`, `<rsp:ReceiveResponse>${stream('stdout', outcome.stdout, true)}${stream('stderr', outcome.stderr, true)}`
        + `<rsp:CommandState CommandId="${commandId}" State="${COMMAND_STATE_DONE}"><rsp:ExitCode>${outcome.exitCode}</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`);
    }
    if (action === ACTION.signal) {
      const commandId = commandIdIn('Signal');
      if (findFirst(soapBody!, 'Code')?.text.trim() !== SIGNAL_TERMINATE || !commands.has(commandId)) return this.invalid('Signal needs terminate and a known command');
      commands.delete(commandId);
      return reply(`${NS.shell}/SignalResponse`, '<rsp:SignalResponse/>');
    }
    this.envelopeErrors.push(`unknown Action ${action}`);
    return this.fault('s:Sender', 'a:ActionNotSupported', `The action ${action} is not supported by the service.`);
  }

  private invalid(problem: string): { status: number; xml: string } {
    this.envelopeErrors.push(problem);
    return this.fault('s:Sender', 'w:InvalidParameter', `The WS-Management service cannot process the request: ${problem}`);
  }

  private envelope(action: string, relatesTo: string, body: string): string {
    return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xml:lang="en-US" xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}" xmlns:rsp="${NS.shell}">`
      + `<s:Header><a:Action>${action}</a:Action><a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID>`
      + `<a:To>${ANONYMOUS}</a:To><a:RelatesTo>${escapeXml(relatesTo)}</a:RelatesTo></s:Header>`
      + (body ? `<s:Body>${body}</s:Body>` : '<s:Body/>') + '</s:Envelope>';
  }

  private fault(code: string, subcode: string, reason: string, wsmanCode = '2150858817'): { status: number; xml: string } {
    const xml = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xml:lang="en-US" xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}">`
      + `<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID></s:Header>`
      + `<s:Body><s:Fault><s:Code><s:Value>${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>`
      + `<s:Reason><s:Text xml:lang="en-US">${escapeXml(reason)}</s:Text></s:Reason>`
      + `<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="${wsmanCode}" Machine="${this.computerName}">`
      + `<f:Message>${escapeXml(reason)}</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`;
    return { status: 500, xml };
  }

  // --- commands ---

  private needsStdin(running: ShellCommand): boolean {
    const script = this.decodeScript(running);
    if (!script) return false;
    return script.operation === 'grant-local' || (script.operation === 'revoke-local' && script.values['EndAccess'] === true);
  }

  private decodeScript(running: ShellCommand): { operation: PowerShellOperation; values: Record<string, unknown> } | undefined {
    if (running.command.toLowerCase() !== 'powershell.exe' || running.args.length !== POWERSHELL_ARGS.length + 1) return undefined;
    if (POWERSHELL_ARGS.some((a, i) => running.args[i] !== a)) return undefined;
    const script = Buffer.from(running.args[POWERSHELL_ARGS.length]!, 'base64').toString('utf16le');
    for (const [operation, body] of Object.entries(POWERSHELL_BODIES) as [PowerShellOperation, string][]) {
      if (!script.endsWith(`\n${body}`)) continue;
      const values = parseHeader(script.slice(0, script.length - body.length - 1));
      if (values) return { operation, values };
    }
    return undefined;
  }

  private execute(running: ShellCommand): Outcome {
    this.commandLines.push([running.command, ...running.args].join(' '));
    const name = running.command.toLowerCase();
    if (name === 'powershell.exe') {
      if (running.args.at(-2) === '-EncodedCommand') this.scripts.push(Buffer.from(running.args.at(-1)!, 'base64').toString('utf16le'));
      const script = this.decodeScript(running);
      if (!script) {
        return { exitCode: 1, stdout: '', stderr: 'The term is not recognized as the name of a cmdlet, function, script file, or operable program.\r\n' };
      }
      const stdinLine = running.stdinEnded ? Buffer.concat(running.stdin).toString('utf8').split(/\r?\n/)[0] ?? null : null;
      return this.powershell(script.operation, script.values, stdinLine);
    }
    if (name === 'quser') return this.quser(running.args);
    if (name === 'logoff') return this.logoff(running.args);
    return { exitCode: 1, stdout: '', stderr: `'${running.command}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n` };
  }

  private quser(args: string[]): Outcome {
    const user = args[0] ?? '';
    const ids = args.length === 1 ? this.sessionsOf(user) : [];
    if (ids.length === 0) return { exitCode: 1, stdout: '', stderr: `No User exists for ${user}\r\n` };
    const rows = ids.map((id, i) => i % 2 === 0
      ? ` ${user.padEnd(22)}rdp-tcp#${id}`.padEnd(42) + `${String(id).padStart(3)}  Active          .  12/1/2026 9:05 AM`
      : ` ${user.padEnd(22)}`.padEnd(42) + `${String(id).padStart(3)}  Disc            5  12/1/2026 8:00 AM`);
    return { exitCode: 0, stdout: ` USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME\r\n${rows.join('\r\n')}\r\n`, stderr: '' };
  }

  private logoff(args: string[]): Outcome {
    const id = Number(args[0]);
    if (args.length !== 1 || !this.sessions.has(id)) {
      return { exitCode: 1, stdout: '', stderr: `Could not log off session ID ${args[0] ?? ''}, Error code 2\r\nError [2]:The system cannot find the file specified.\r\n` };
    }
    this.sessions.delete(id);
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  private powershell(operation: PowerShellOperation, values: Record<string, unknown>, stdinLine: string | null): Outcome {
    const ok = (stdout: string): Outcome => ({ exitCode: 0, stdout: `${stdout}\r\n`, stderr: '' });
    const fail = (message: string, exitCode = 1): Outcome => ({ exitCode, stdout: '', stderr: `${message}\r\n` });
    const name = values['Name'] as string;
    const groups = (values['Groups'] ?? []) as string[];
    const notManaged = () => fail(`The account ${name} exists but Keyway did not create it (its description is not '${KEYWAY_MARKER}'): Keyway leaves it alone.`, 3);
    const missingGroup = groups.find((g) => this.groupKey(g) === undefined);
    const account = name === undefined ? undefined : this.account(name);

    switch (operation) {
      case 'grant-local': {
        if (stdinLine === null) return fail("Cannot bind argument to parameter 'String' because it is null.");
        if (stdinLine.length < 8) return fail('The password does not meet the password policy requirements. Check the minimum password length, password complexity and password history requirements.');
        let result = 'updated';
        let target = account;
        if (!target) {
          target = this.addAccount(name, stdinLine, KEYWAY_MARKER);
          target.userMayChangePassword = false;
          result = 'created';
        } else if (target.description !== KEYWAY_MARKER) {
          return notManaged();
        }
        target.password = stdinLine;
        target.passwordNeverExpires = false;
        target.expires = values['Expires'] ? new Date(values['Expires'] as string) : null;
        target.enabled = true;
        if (missingGroup !== undefined) return fail(`Group ${missingGroup} was not found.`);
        for (const group of groups) this.addMember(group, target.name);
        return ok(result);
      }
      case 'revoke-local': {
        if (!account) return ok('absent');
        if (account.description !== KEYWAY_MARKER) return notManaged();
        for (const group of groups) this.removeMember(group, account.name);
        if (values['EndAccess'] === true) {
          account.enabled = false;
          if (stdinLine === null || stdinLine.length < 8) return fail("Cannot bind argument to parameter 'String' because it is null.");
          account.password = stdinLine;
        }
        return ok('revoked');
      }
      case 'delete-local': {
        if (!account) return ok('absent');
        if (account.description !== KEYWAY_MARKER) return notManaged();
        for (const group of this.groups.keys()) this.removeMember(group, account.name);
        this.accounts.delete(account.name.toLowerCase());
        return ok('deleted');
      }
      case 'grant-domain': {
        if (missingGroup !== undefined) return fail(`Group ${missingGroup} was not found.`);
        for (const group of groups) this.addMember(group, values['Member'] as string);
        return ok('granted');
      }
      case 'revoke-domain': {
        for (const group of groups) this.removeMember(group, values['Member'] as string);
        return ok('revoked');
      }
      case 'check': {
        const lines = [`computer=${this.computerName}`, 'admin=True', 'localaccounts=True',
          ...groups.map((g) => `group=${this.groupKey(g) === undefined ? 'False' : 'True'}=${g}`)];
        return ok(lines.join('\r\n'));
      }
    }
  }

  private groupKey(group: string): string | undefined {
    return [...this.groups.keys()].find((g) => g.toLowerCase() === group.toLowerCase());
  }

  private addMember(group: string, member: string): void {
    const key = this.groupKey(group);
    if (key !== undefined && !this.isMember(key, member)) this.groups.get(key)!.add(member);
  }

  private removeMember(group: string, member: string): void {
    const key = this.groupKey(group);
    if (key === undefined) return;
    const members = this.groups.get(key)!;
    for (const m of members) if (m.toLowerCase() === member.toLowerCase()) members.delete(m);
  }
}

/**
 * The header of a Keyway script: one `$Name=VALUE` per line, VALUE a single-quoted literal (quotes doubled),
 * `@('a','b')`, `@()`, `$true` or `$false`. Anything else: not a script this stand-in runs.
 */
export function parseHeader(header: string): Record<string, unknown> | undefined {
  const values: Record<string, unknown> = {};
  const literal = String.raw`'(?:[^'\u2018\u2019\u201a\u201b]|['\u2018\u2019\u201a\u201b]{2})*'`;
  const unquote = (l: string) => l.slice(1, -1).replace(/(['\u2018\u2019\u201a\u201b])\1/g, '$1');
  for (const line of header.split('\n')) {
    const match = /^\$([A-Za-z]+)=(.*)$/.exec(line);
    if (!match) return undefined;
    const [, name, value] = match as unknown as [string, string, string];
    if (value === '$true' || value === '$false') values[name] = value === '$true';
    else if (new RegExp(`^${literal}$`).test(value)) values[name] = unquote(value);
    else if (new RegExp(`^@\\((?:${literal}(?:,${literal})*)?\\)$`).test(value)) values[name] = [...value.slice(2, -1).matchAll(new RegExp(literal, 'g'))].map((m) => unquote(m[0]));
    else return undefined;
  }
  return values;
}
