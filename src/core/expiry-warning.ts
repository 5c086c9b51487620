// When the requester hears that access is about to end: ten minutes before, or a quarter of the grant's length
// before when the grant is shorter, so a 20-minute grant is not announced as ending half-way through.
const MAX_LEAD_MS = 10 * 60_000;

export function expiryWarningAt(approvedAt: number, expiresAt: number): number {
  const lead = Math.min(MAX_LEAD_MS, Math.floor((expiresAt - approvedAt) / 4));
  return expiresAt - lead;
}
