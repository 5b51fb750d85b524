/** The key an address is de-duplicated by: trimmed, whole address lower-cased. */
export function addressKey(address: string): string {
  return address.trim().toLowerCase();
}

/**
 * Unique recipients in first-seen order, compared case-insensitively. The first spelling wins:
 * local parts may be case-sensitive in theory, but no real mailbox provider treats
 * `Ann@x` and `ann@x` as two people, and sending twice is the worse mistake.
 */
export function uniqueRecipients(addresses: readonly string[]): { address: string; key: string }[] {
  const seen = new Set<string>();
  const unique: { address: string; key: string }[] = [];
  for (const raw of addresses) {
    const address = raw.trim();
    const key = addressKey(address);
    if (!key || seen.has(key)) continue;
    seen.add(key);
    unique.push({ address, key });
  }
  return unique;
}
