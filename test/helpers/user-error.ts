// The UserError an action throws; a test fails if it throws something else or nothing.
import { UserError } from '../../src/core/errors.js';

export function userErrorOf(action: () => unknown, accepted = 'expected a UserError, got none'): UserError {
  try {
    action();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error(accepted);
}
