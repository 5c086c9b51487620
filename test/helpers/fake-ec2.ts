// A local stand-in for the EC2 Query API's DescribeInstances, written from the public reference (API version
// 2016-11-15): POST with a form body (Action, Version, Filter.N.Name / Filter.N.Value.M, MaxResults, NextToken), a
// SigV4 `Authorization: AWS4-HMAC-SHA256 Credential=…/REGION/ec2/aws4_request, …` header (checked for presence and
// its scope, not its signature), and the XML answer in the real namespace (reservationSet/item/instancesSet/item with
// instanceId, instanceState, privateIpAddress, ipAddress, privateDnsName, dnsName, tagSet; nextToken). Filters:
// instance-state-name, instance-id and tag:KEY. It records every call and can be taken down.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { listenLocally } from './local-server.js';

export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export interface FakeInstance {
  id: string;
  region: string;
  state?: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  privateIp?: string;
  publicIp?: string;
  privateDns?: string;
  publicDns?: string;
  tags?: Record<string, string>;
}

export interface Ec2Call {
  region: string;
  action: string;
  filters: Record<string, string[]>;
  maxResults?: number;
  nextToken?: string;
}

export interface FakeEc2 {
  endpoint: string;
  instances: FakeInstance[];
  calls: Ec2Call[];
  /** Set: every call is answered 503 Unavailable, as during an outage. */
  down: boolean;
  /** The most instances one page holds, whatever MaxResults asks (EC2 may return fewer than asked). */
  pageLimit: number;
  close(): Promise<void>;
}

/** Environment for the SDK's credential chain: the fake checks only that requests are signed. */
export const FAKE_AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIAKEYWAYTEST000001', AWS_SECRET_ACCESS_KEY: 'keyway-test-secret-not-a-real-one' };

const STATE_CODES = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 } as const;
const SCOPE = /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/([a-z0-9-]+)\/ec2\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/;

export async function startFakeEc2(instances: FakeInstance[] = []): Promise<FakeEc2> {
  const fake: FakeEc2 = { endpoint: '', instances, calls: [], down: false, pageLimit: 1000, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const xml = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
      const error = (status: number, code: string, message: string) =>
        xml(status, `<Response><Errors><Error><Code>${code}</Code><Message>${escape(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`);
      const scope = SCOPE.exec(req.headers.authorization ?? '');
      if (!scope) return error(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
      if (req.method !== 'POST') return error(400, 'InvalidAction', 'The action is not valid for this web service.');
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const call: Ec2Call = { region: scope[1]!, action: form.get('Action') ?? '', filters: filtersOf(form) };
      if (form.has('MaxResults')) call.maxResults = Number(form.get('MaxResults'));
      if (form.has('NextToken')) call.nextToken = form.get('NextToken')!;
      fake.calls.push(call);
      if (fake.down) return error(503, 'Unavailable', 'The service is unavailable. Please try again shortly.');
      if (call.action !== 'DescribeInstances') return error(400, 'InvalidAction', `The action ${call.action} is not valid for this web service.`);
      if (form.get('Version') !== '2016-11-15') return error(400, 'InvalidParameterValue', 'Version must be 2016-11-15');
      if (call.maxResults !== undefined && (call.maxResults < 5 || call.maxResults > 1000)) {
        return error(400, 'InvalidParameterValue', 'Value for parameter maxResults is invalid. Expecting a value between 5 and 1000.');
      }
      const matching = fake.instances.filter((i) => i.region === call.region && matches(i, call.filters));
      const offset = call.nextToken === undefined ? 0 : Number(Buffer.from(call.nextToken, 'base64url').toString('utf8'));
      const size = Math.min(call.maxResults ?? matching.length, fake.pageLimit);
      const page = matching.slice(offset, offset + size);
      const next = offset + size < matching.length ? Buffer.from(String(offset + size)).toString('base64url') : undefined;
      xml(200, describeInstancesResponse(page, next));
    });
  });
  const listening = await listenLocally(server);
  fake.endpoint = `http://127.0.0.1:${listening.port}`;
  fake.close = listening.close;
  return fake;
}

function filtersOf(form: URLSearchParams): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (let n = 1; form.has(`Filter.${n}.Name`); n++) {
    const values: string[] = [];
    for (let m = 1; form.has(`Filter.${n}.Value.${m}`); m++) values.push(form.get(`Filter.${n}.Value.${m}`)!);
    filters[form.get(`Filter.${n}.Name`)!] = values;
  }
  return filters;
}

function matches(instance: FakeInstance, filters: Record<string, string[]>): boolean {
  return Object.entries(filters).every(([name, values]) => {
    if (name === 'instance-state-name') return values.includes(instance.state ?? 'running');
    if (name === 'instance-id') return values.includes(instance.id);
    if (name.startsWith('tag:')) {
      const value = instance.tags?.[name.slice(4)];
      return value !== undefined && values.includes(value);
    }
    throw new Error(`the fake EC2 does not know the filter ${name}`);
  });
}

function describeInstancesResponse(instances: FakeInstance[], nextToken: string | undefined): string {
  // One reservation per instance, as when each was launched on its own.
  const reservations = instances.map((i, n) => {
    const state = i.state ?? 'running';
    const tags = Object.entries(i.tags ?? {}).map(([key, value]) => `<item><key>${escape(key)}</key><value>${escape(value)}</value></item>`).join('');
    return `<item><reservationId>r-${(n + 1).toString(16).padStart(17, '0')}</reservationId><ownerId>123456789012</ownerId><groupSet/>`
      + `<instancesSet><item><instanceId>${i.id}</instanceId><imageId>ami-0abcdef1234567890</imageId>`
      + `<instanceState><code>${STATE_CODES[state]}</code><name>${state}</name></instanceState>`
      + `<privateDnsName>${escape(i.privateDns ?? '')}</privateDnsName><dnsName>${escape(i.publicDns ?? '')}</dnsName>`
      + `<instanceType>t3.micro</instanceType><placement><availabilityZone>${i.region}a</availabilityZone><tenancy>default</tenancy></placement>`
      + (i.privateIp ? `<privateIpAddress>${i.privateIp}</privateIpAddress>` : '')
      + (i.publicIp ? `<ipAddress>${i.publicIp}</ipAddress>` : '')
      + (tags ? `<tagSet>${tags}</tagSet>` : '')
      + '</item></instancesSet></item>';
  }).join('');
  return `<DescribeInstancesResponse xmlns="${EC2_NAMESPACE}"><requestId>${randomUUID()}</requestId>`
    + `<reservationSet>${reservations}</reservationSet>${nextToken ? `<nextToken>${nextToken}</nextToken>` : ''}</DescribeInstancesResponse>`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
