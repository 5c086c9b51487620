// The settings every integration type takes (design.md "Integration settings"), and the Linux account settings that
// only the kinds reaching Linux over SSH take.
import { z } from 'zod';
import type { IntegrationCommon } from '../core/model.js';
import { email, groupList, loginShell, plainName, secretRef, uidRange } from './field-schemas.js';

export const CUSTOM_ACCESS_DETAILS_MAX = 400;

/** What every kind takes, Linux or Windows. */
export const sharedIntegrationFields = {
  name: plainName('integration'),
  secret: secretRef.optional(),
  cleanup_after_days: z
    .int({ error: 'cleanup_after_days must be a whole number of days' })
    .min(0, 'cleanup_after_days must not be negative')
    .max(3650, 'cleanup_after_days must be at most 3650')
    .default(7),
  custom_access_details: z
    .string()
    .max(CUSTOM_ACCESS_DETAILS_MAX, `custom_access_details must be at most ${CUSTOM_ACCESS_DETAILS_MAX} characters`)
    .optional(),
  owners: z.array(email).default([]),
  resource_owner_tag: z.string().min(1, 'resource_owner_tag must name a tag').optional(),
};

/** The settings of an integration whose accounts are Linux accounts (ssh, aws-ec2, azure-vm). */
export const commonIntegrationFields = {
  ...sharedIntegrationFields,
  user_groups: groupList('user_groups'),
  login_shell: loginShell,
  user_key_name: z
    .string()
    .refine((value) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(value), { error: 'user_key_name must be a file name like id_ed25519' })
    .default('id_ed25519'),
  uid_range: uidRange,
  allow_privileged_groups: z.boolean().default(false),
};

type SharedIntegrationInput = z.output<z.ZodObject<typeof sharedIntegrationFields>>;
type CommonIntegrationInput = z.output<z.ZodObject<typeof commonIntegrationFields>>;

/** The Linux-only settings a Windows kind never reads, filled with the defaults so the model stays one shape. */
const UNUSED_LINUX_SETTINGS = { loginShell: '/bin/bash', userKeyName: 'id_ed25519', uidRange: { min: 60000, max: 64999 }, allowPrivilegedGroups: false };

export function sharedIntegration(i: SharedIntegrationInput, userGroups: string[]): IntegrationCommon {
  return {
    name: i.name,
    ...(i.secret !== undefined && { secret: i.secret }),
    userGroups,
    ...UNUSED_LINUX_SETTINGS,
    cleanupAfterDays: i.cleanup_after_days,
    ...(i.custom_access_details !== undefined && { customAccessDetails: i.custom_access_details }),
    owners: i.owners,
    ...(i.resource_owner_tag !== undefined && { resourceOwnerTag: i.resource_owner_tag }),
  };
}

export function commonIntegration(i: CommonIntegrationInput): IntegrationCommon {
  return {
    ...sharedIntegration(i, i.user_groups),
    loginShell: i.login_shell,
    userKeyName: i.user_key_name,
    uidRange: i.uid_range,
    allowPrivilegedGroups: i.allow_privileged_groups,
  };
}
