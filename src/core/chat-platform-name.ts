// The chat platforms Keyway speaks: the name under which each records its messages, addresses and deliveries.
export type PlatformName = 'slack' | 'teams';
