// Zod schemas for the single values of the access file: e-mails, names, hosts, durations, ranges, secrets.
import { isIP } from 'node:net';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../core/duration.js';
import { UserError } from '../core/errors.js';
import { validateGrantableGroup, validateLoginShell } from '../core/linux-names.js';
import { DEFAULT_GROUP, type SecretRef, type UidRange } from '../core/model.js';
import { USERNAME_PATTERN, validateUsername } from '../core/username.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SLACK_USERGROUP = /^S[A-Z0-9]{2,}$/;
const UID_RANGE = /^\s*(\d+)\s*-\s*(\d+)\s*$/;
const NOBODY_UID = 65_534;
const MAX_UID = 4_294_967_294;

const quoted = (value: unknown): string => JSON.stringify(String(value));

export const email = z
  .string()
  .trim()
  .toLowerCase()
  .refine((value) => EMAIL.test(value), { error: (issue) => `${quoted(issue.input)} is not an e-mail address` });

/** Names of integrations and flows: people type them and they appear in logs, so keep them plain. */
export function plainName(what: string) {
  return z.string().refine((value) => NAME.test(value), {
    error: (issue) => `${quoted(issue.input)} is not a valid ${what} name: use up to 64 letters, digits, ".", "_" and "-", starting with a letter or digit`,
  });
}

/** Durations a flow may give: longer than this is a standing grant, not just-in-time access. */
export const MAX_FLOW_DURATION_SECONDS = 30 * 86_400;

/**
 * A list of groups to grant. root and keyway-users are refused here; root-equivalent groups (sudo, docker, …)
 * depend on the integration's allow_privileged_groups and are judged in cross-checks.ts, with the same rule.
 */
export function groupList(field: string) {
  const group = z.string().transform((value, context) => {
    if (value === DEFAULT_GROUP) return value;
    try {
      return validateGrantableGroup(value, { allowPrivileged: true });
    } catch (error) {
      context.addIssue({ code: 'custom', message: `${field}: ${messageOf(error)}` });
      return z.NEVER;
    }
  });
  return z
    .array(group)
    .min(1, `${field} must list at least one group; use [Default] for only the user's own group`)
    .refine((groups) => !groups.includes(DEFAULT_GROUP) || groups.length === 1, {
      error: `${field}: Default means only the user's own group and cannot be combined with other groups`,
    })
    .default([DEFAULT_GROUP]);
}

export const loginShell = z
  .string()
  .transform((value, context) => {
    try {
      return validateLoginShell(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: messageOf(error) });
      return z.NEVER;
    }
  })
  .prefault('/bin/bash');

export const serverName = z
  .string()
  .min(1, 'server name must not be empty')
  .max(100, 'server name must be at most 100 characters')
  .refine((value) => value === value.trim(), { error: (issue) => `server name ${quoted(issue.input)} must not start or end with spaces` })
  // People list servers as "web-1,web-2" in chat commands, so a comma or quote in a name could never be typed.
  .refine((value) => !/[,"\p{Cc}]/u.test(value), {
    error: (issue) => `server name ${quoted(issue.input)} must not contain commas, double quotes or control characters`,
  });

export const host = z.string().refine((value) => isIP(value) !== 0 || HOSTNAME.test(value), {
  error: (issue) => `host ${quoted(issue.input)} is not a hostname or IP address (no spaces, ports, users or shell characters)`,
});

export const connectorUser = z
  .string()
  .refine((value) => USERNAME_PATTERN.test(value), {
    error: (issue) => `user ${quoted(issue.input)} is not a valid Linux username: use 1 to 32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_"`,
  })
  .refine((value) => value !== 'root', {
    error: 'user must not be root: the connector is a service account with passwordless sudo (default keyway)',
  })
  .default('keyway');

export const port = z
  .int({ error: 'port must be a whole number from 1 to 65535' })
  .min(1, 'port must be a whole number from 1 to 65535')
  .max(65_535, 'port must be a whole number from 1 to 65535')
  .default(22);

/** Tag values may be written as numbers or booleans (tier: 1); they are compared as text. */
export const tags = z
  .record(z.string().min(1, 'tag names must not be empty'), z.union([z.string(), z.number(), z.boolean()], { error: 'tag values must be text' }).transform(String))
  .default({});

export const linuxUser = z.string().transform((value, context) => {
  try {
    return validateUsername(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: messageOf(error) });
    return z.NEVER;
  }
});

export function duration(field: string, fallback: string) {
  return z
    .string({ error: `${field} must be a duration like 30m, 2h or 1d` })
    .transform((value, context) => {
      try {
        const seconds = parseDuration(value);
        if (seconds > MAX_FLOW_DURATION_SECONDS) {
          context.addIssue({ code: 'custom', message: `${field} must be at most ${formatDuration(MAX_FLOW_DURATION_SECONDS)}, not ${formatDuration(seconds)}` });
          return z.NEVER;
        }
        return seconds;
      } catch (error) {
        context.addIssue({ code: 'custom', message: `${field}: ${messageOf(error)}` });
        return z.NEVER;
      }
    })
    .prefault(fallback);
}

export const uidRange = z
  .string({ error: 'uid_range must be text like 60000-64999' })
  .transform((value, context): UidRange => {
    const match = UID_RANGE.exec(value);
    const fail = (message: string) => {
      context.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (!match) return fail(`uid_range ${quoted(value)} must look like 60000-64999 (first-last)`);
    const min = Number(match[1]);
    const max = Number(match[2]);
    if (min < 1000) return fail(`uid_range must start at 1000 or above: lower UIDs belong to system accounts`);
    if (min > max) return fail(`uid_range ${quoted(value)} is backwards: the first UID must not be above the last`);
    if (max > MAX_UID) return fail(`uid_range must end at ${MAX_UID} or below`);
    if (min <= NOBODY_UID && NOBODY_UID <= max) return fail(`uid_range must not include ${NOBODY_UID} (nobody)`);
    return { min, max };
  })
  .prefault('60000-64999');

export const usergroupId = z.string().refine((value) => SLACK_USERGROUP.test(value), {
  error: (issue) => `${quoted(issue.input)} is not a Slack user group ID: use the ID (like S0123ABCD), not the @handle`,
});

export const cidr = z.string().refine(isAddressOrCidr, {
  error: (issue) => `${quoted(issue.input)} is not an IP address or CIDR block (like 10.8.0.0/16)`,
});

const INLINE_SECRET = 'secret must not be written inline: use { env: NAME } or { file: PATH }';

// The value is never quoted in these messages: a key pasted into the wrong field must not end up in logs.
export const secretRef = z
  .custom<unknown>((value) => typeof value !== 'string', { error: INLINE_SECRET })
  .pipe(
    z
      .strictObject({
        env: z
          .string({ error: 'secret.env must be the name of an environment variable' })
          .refine((value) => ENV_NAME.test(value), { error: 'secret.env must be the name of an environment variable (letters, digits and _), not the key itself' })
          .optional(),
        file: z
          .string({ error: 'secret.file must be a path' })
          .min(1, 'secret.file must be a path')
          .refine((value) => !/[\n\r]|PRIVATE KEY/.test(value), { error: 'secret.file must be the path of a file holding the key, not the key itself' })
          .optional(),
      })
      .refine((secret) => (secret.env === undefined) !== (secret.file === undefined), { error: 'secret must have exactly one of env or file' }),
  )
  .transform((secret): SecretRef => (secret.env !== undefined ? { env: secret.env } : { file: secret.file! }));

function isAddressOrCidr(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

function messageOf(error: unknown): string {
  if (error instanceof UserError) return error.message;
  throw error;
}

/** An on-call schedule as flows name it: `pagerduty:PSCHED1` or `opsgenie:<schedule id>`. */
export const scheduleRef = z
  .string()
  .trim()
  .refine((value) => /^(pagerduty|opsgenie):[A-Za-z0-9._-]+$/.test(value), {
    error: (issue) => `${quoted(issue.input)} is not an on-call schedule: write pagerduty:SCHEDULE_ID or opsgenie:SCHEDULE_ID`,
  });

/** An API base URL (https, or http for a local test server). */
export const apiUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, { error: 'api_url must be an http(s) URL like https://api.eu.pagerduty.com' });

/** An AWS region name like eu-west-1 or us-gov-west-1. */
export const awsRegion = z.string().refine((value) => /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/.test(value), {
  error: (issue) => `${quoted(issue.input)} is not an AWS region: write a region name like eu-west-1`,
});

/** An IAM role to assume for DescribeInstances. */
export const roleArn = z.string().refine((value) => /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(value), {
  error: 'role_arn must be an IAM role ARN like arn:aws:iam::123456789012:role/keyway-inventory',
});

/** An Azure subscription id: a GUID. */
export const subscriptionId = z.string().refine((value) => /^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(value), {
  error: (issue) => `${quoted(issue.input)} is not an Azure subscription id: write its GUID, like 00000000-0000-0000-0000-000000000000`,
});

/** An Azure resource group name: letters, digits, "_", "-", ".", "(", ")"; not ending in "."; at most 90. */
export const resourceGroup = z.string().refine((value) => /^[-\w.()]{0,89}[-\w()]$/u.test(value), {
  error: (issue) => `${quoted(issue.input)} is not an Azure resource group name: up to 90 letters, digits, "_", "-", ".", "(" and ")"`,
});

/** A base URL of a cloud API or token authority: https, or http for a local test server. */
export function serviceUrl(field: string, example: string) {
  return z.string().refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, { error: `${field} must be an http(s) URL like ${example}, without a user or password` });
}

/** How often a cloud inventory is listed again: from 30 seconds to a day. */
export const refreshInterval = z
  .string({ error: 'refresh must be a duration like 5m' })
  .transform((value, context) => {
    try {
      const seconds = parseDuration(value);
      if (seconds >= 30 && seconds <= 86_400) return seconds;
      context.addIssue({ code: 'custom', message: `refresh must be from 30s to 1d, not ${formatDuration(seconds)}` });
    } catch (error) {
      context.addIssue({ code: 'custom', message: `refresh: ${messageOf(error)}` });
    }
    return z.NEVER;
  })
  .prefault('5m');
