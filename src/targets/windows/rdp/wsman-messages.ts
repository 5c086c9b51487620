// The SOAP 1.2 envelopes of the Windows Remote Shell (MS-WSMV 3.1.4.1: Create, Command, Send, Receive, Signal,
// Delete) and the reading of their answers. Values are XML-escaped; nothing here does I/O.
import { randomUUID } from 'node:crypto';
import { escapeXml, findAll, findFirst, parseXml, type XmlElement } from './xml.js';

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  addressing: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  shell: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  transfer: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
} as const;

export const SHELL_RESOURCE_URI = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd';
export const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

export const ACTION = {
  create: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create',
  delete: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete',
  command: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command',
  send: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send',
  receive: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive',
  signal: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal',
} as const;

export const COMMAND_STATE_DONE = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done';
export const SIGNAL_TERMINATE = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate';
/** The WSManFault code of a Receive that saw no output within its OperationTimeout: poll again. */
export const WSMAN_TIMED_OUT_CODE = '2150858793';

export interface Envelope {
  messageId: string;
  xml: string;
}

interface HeaderSpec {
  to: string;
  action: string;
  shellId?: string;
  /** Seconds the server may take to answer (Receive long-polls up to this). */
  operationTimeoutSeconds: number;
  options?: Record<string, string>;
}

function envelope(header: HeaderSpec, body: string): Envelope {
  const messageId = `uuid:${randomUUID().toUpperCase()}`;
  const selector = header.shellId === undefined ? ''
    : `<w:SelectorSet><w:Selector Name="ShellId">${escapeXml(header.shellId)}</w:Selector></w:SelectorSet>`;
  const options = header.options === undefined ? ''
    : `<w:OptionSet>${Object.entries(header.options).map(([name, value]) => `<w:Option Name="${escapeXml(name)}">${escapeXml(value)}</w:Option>`).join('')}</w:OptionSet>`;
  const xml = `<?xml version="1.0" encoding="utf-8"?>`
    + `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}" xmlns:rsp="${NS.shell}">`
    + `<s:Header>`
    + `<a:To>${escapeXml(header.to)}</a:To>`
    + `<a:ReplyTo><a:Address s:mustUnderstand="true">${ANONYMOUS}</a:Address></a:ReplyTo>`
    + `<w:MaxEnvelopeSize s:mustUnderstand="true">153600</w:MaxEnvelopeSize>`
    + `<a:MessageID>${messageId}</a:MessageID>`
    + `<w:Locale xml:lang="en-US" s:mustUnderstand="false"/>`
    + `<w:OperationTimeout>PT${header.operationTimeoutSeconds}S</w:OperationTimeout>`
    + `<w:ResourceURI s:mustUnderstand="true">${SHELL_RESOURCE_URI}</w:ResourceURI>`
    + `<a:Action s:mustUnderstand="true">${header.action}</a:Action>`
    + selector + options
    + `</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
  return { messageId, xml };
}

export function createShellEnvelope(to: string, operationTimeoutSeconds: number): Envelope {
  return envelope({ to, action: ACTION.create, operationTimeoutSeconds, options: { WINRS_NOPROFILE: 'TRUE', WINRS_CODEPAGE: '65001' } },
    '<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>');
}

/**
 * Starts a command. With `pipedStdin` its stdin is a pipe Keyway writes with Send (WINRS_CONSOLEMODE_STDIN FALSE,
 * as Ansible does to feed a script on stdin); else a console, so nothing waits for input.
 */
export function commandEnvelope(to: string, shellId: string, command: string, args: readonly string[], operationTimeoutSeconds: number,
  pipedStdin = false): Envelope {
  const argumentsXml = args.map((a) => `<rsp:Arguments>${escapeXml(a)}</rsp:Arguments>`).join('');
  const options = { WINRS_CONSOLEMODE_STDIN: pipedStdin ? 'FALSE' : 'TRUE', WINRS_SKIP_CMD_SHELL: 'FALSE' };
  return envelope({ to, action: ACTION.command, shellId, operationTimeoutSeconds, options },
    `<rsp:CommandLine><rsp:Command>${escapeXml(command)}</rsp:Command>${argumentsXml}</rsp:CommandLine>`);
}

/** Sends `data` on the command's stdin and closes it (End="true"). */
export function sendEnvelope(to: string, shellId: string, commandId: string, data: Buffer, operationTimeoutSeconds: number): Envelope {
  return envelope({ to, action: ACTION.send, shellId, operationTimeoutSeconds },
    `<rsp:Send><rsp:Stream Name="stdin" CommandId="${escapeXml(commandId)}" End="true">${data.toString('base64')}</rsp:Stream></rsp:Send>`);
}

export function receiveEnvelope(to: string, shellId: string, commandId: string, operationTimeoutSeconds: number): Envelope {
  return envelope({ to, action: ACTION.receive, shellId, operationTimeoutSeconds, options: { WSMAN_CMDSHELL_OPTION_KEEPALIVE: 'TRUE' } },
    `<rsp:Receive><rsp:DesiredStream CommandId="${escapeXml(commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`);
}

export function signalTerminateEnvelope(to: string, shellId: string, commandId: string, operationTimeoutSeconds: number): Envelope {
  return envelope({ to, action: ACTION.signal, shellId, operationTimeoutSeconds },
    `<rsp:Signal CommandId="${escapeXml(commandId)}"><rsp:Code>${SIGNAL_TERMINATE}</rsp:Code></rsp:Signal>`);
}

export function deleteShellEnvelope(to: string, shellId: string, operationTimeoutSeconds: number): Envelope {
  return envelope({ to, action: ACTION.delete, shellId, operationTimeoutSeconds }, '');
}

/** A SOAP fault the server answered with (HTTP 500). */
export class WsmanFault extends Error {
  override readonly name = 'WsmanFault';
  constructor(readonly reason: string, readonly subcode: string | undefined, readonly wsmanCode: string | undefined) {
    super(reason);
  }
  get timedOut(): boolean {
    return this.wsmanCode === WSMAN_TIMED_OUT_CODE || this.subcode?.endsWith('TimedOut') === true;
  }
}

/** Parses an answer; throws a WsmanFault for a fault and an Error when it does not answer `messageId`. */
export function readResponse(xml: string, messageId: string): XmlElement {
  const root = parseXml(xml);
  if (root.name !== 'Envelope') throw new Error('the answer is not a SOAP envelope');
  const body = findFirst(root, 'Body');
  const fault = body && findFirst(body, 'Fault');
  if (fault) {
    const reason = findFirst(fault, 'Text')?.text.trim() || findFirst(fault, 'Message')?.text.trim() || 'unknown fault';
    const subcode = findFirst(findFirst(fault, 'Subcode') ?? fault, 'Value')?.text.trim();
    throw new WsmanFault(reason, subcode, findFirst(fault, 'WSManFault')?.attributes['Code']);
  }
  const relatesTo = findFirst(findFirst(root, 'Header') ?? root, 'RelatesTo')?.text.trim();
  if (relatesTo !== messageId) throw new Error(`the answer relates to ${relatesTo ?? 'no message'}, not to ${messageId}`);
  if (!body) throw new Error('the answer has no SOAP body');
  return body;
}

export function shellIdOf(body: XmlElement): string {
  const selector = findAll(body, 'Selector').find((s) => s.attributes['Name'] === 'ShellId')?.text.trim()
    ?? findFirst(body, 'ShellId')?.text.trim();
  if (!selector) throw new Error('the Create answer names no ShellId');
  return selector;
}

export function commandIdOf(body: XmlElement): string {
  const id = findFirst(body, 'CommandId')?.text.trim();
  if (!id) throw new Error('the Command answer names no CommandId');
  return id;
}

export interface ReceivedOutput {
  stdout: Buffer[];
  stderr: Buffer[];
  /** Set once CommandState is Done. */
  exitCode?: number;
}

export function receivedOutput(body: XmlElement, commandId: string): ReceivedOutput {
  const output: ReceivedOutput = { stdout: [], stderr: [] };
  for (const stream of findAll(body, 'Stream')) {
    if (stream.attributes['CommandId'] !== undefined && stream.attributes['CommandId'] !== commandId) continue;
    const data = Buffer.from(stream.text.trim(), 'base64');
    if (stream.attributes['Name'] === 'stdout') output.stdout.push(data);
    if (stream.attributes['Name'] === 'stderr') output.stderr.push(data);
  }
  const state = findFirst(body, 'CommandState');
  if (state?.attributes['State'] === COMMAND_STATE_DONE) {
    const exitCode = Number.parseInt(findFirst(state, 'ExitCode')?.text.trim() ?? '', 10);
    if (!Number.isInteger(exitCode)) throw new Error('the command is done but its exit code is missing');
    output.exitCode = exitCode;
  }
  return output;
}
