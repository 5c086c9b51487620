import { describe, expect, it } from 'vitest';
import {
  ACTION, commandEnvelope, readResponse, receivedOutput, WsmanFault,
} from '../../src/targets/windows/rdp/wsman-messages.js';
import { withoutSecret } from '../../src/targets/windows/rdp/winrm-transport.js';
import { findFirst, parseXml } from '../../src/targets/windows/rdp/xml.js';

describe('the XML reader', () => {
  it('reads prefixed elements, attributes, entities and CDATA', () => {
    const root = parseXml(`<?xml version="1.0"?><s:Envelope xmlns:s="x"><s:Body a='1 &amp; 2'>x &lt;y&gt; &#65;<![CDATA[<raw>]]></s:Body></s:Envelope>`);
    const body = findFirst(root, 'Body')!;
    expect(body.attributes['a']).toBe('1 & 2');
    expect(body.text).toBe('x <y> A<raw>');
  });

  it('refuses a DOCTYPE (no entity expansion), unknown entities and unbalanced tags', () => {
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')).toThrow(/DOCTYPE/);
    expect(() => parseXml('<x>&a;</x>')).toThrow(/unknown XML entity/);
    expect(() => parseXml('<x><y></x>')).toThrow(/unexpected closing tag/);
    expect(() => parseXml('<x>')).toThrow(/unclosed/);
  });
});

describe('WS-Management envelopes', () => {
  it('escapes command arguments and names the shell, action and a fresh message ID', () => {
    const a = commandEnvelope('https://h:5986/wsman', 'S-1', 'quser', ['a<b&"c'], 20);
    const b = commandEnvelope('https://h:5986/wsman', 'S-1', 'quser', [], 20);
    expect(a.messageId).not.toBe(b.messageId);
    const root = parseXml(a.xml);
    expect(findFirst(root, 'Action')!.text).toBe(ACTION.command);
    expect(findFirst(root, 'Selector')!.text).toBe('S-1');
    expect(findFirst(root, 'Arguments')!.text).toBe('a<b&"c');
  });

  it('refuses an answer to another message, and turns a fault into a WsmanFault that knows a timeout', () => {
    const answer = '<s:Envelope xmlns:s="x"><s:Header><a:RelatesTo>uuid:OTHER</a:RelatesTo></s:Header><s:Body/></s:Envelope>';
    expect(() => readResponse(answer, 'uuid:MINE')).toThrow(/relates to uuid:OTHER/);
    const fault = '<s:Envelope xmlns:s="x"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>'
      + '<s:Reason><s:Text>late</s:Text></s:Reason><s:Detail><f:WSManFault Code="2150858793"/></s:Detail></s:Fault></s:Body></s:Envelope>';
    const error = (() => { try { readResponse(fault, 'uuid:MINE'); } catch (e) { return e; } })();
    expect(error).toBeInstanceOf(WsmanFault);
    expect((error as WsmanFault).timedOut).toBe(true);
  });

  it('collects the base64 streams of its command and the exit code once Done', () => {
    const body = parseXml(`<Body><ReceiveResponse><Stream Name="stdout" CommandId="C">${Buffer.from('hi ').toString('base64')}</Stream>`
      + `<Stream Name="stdout" CommandId="OTHER">${Buffer.from('no').toString('base64')}</Stream>`
      + `<Stream Name="stderr" CommandId="C">${Buffer.from('err').toString('base64')}</Stream>`
      + '<CommandState CommandId="C" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><ExitCode>3</ExitCode></CommandState>'
      + '</ReceiveResponse></Body>');
    const output = receivedOutput(body, 'C');
    expect(Buffer.concat(output.stdout).toString()).toBe('hi ');
    expect(Buffer.concat(output.stderr).toString()).toBe('err');
    expect(output.exitCode).toBe(3);
  });

  it('removes a secret and its base64 form from a message', () => {
    expect(withoutSecret(`bad pw Hunter2! in Basic ${Buffer.from('Hunter2!').toString('base64')}`, 'Hunter2!')).toBe('bad pw *** in Basic ***');
  });
});
