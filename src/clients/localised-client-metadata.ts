/** The human-readable metadata of a client as one person should see it (RFC 7591 §2.2). */
export interface LocalisedClientMetadata {
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
}

const FIELDS = ['client_name', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const;

/** `fr-CH;q=0.9, en;q=0.8, *;q=0.5` → `['fr-ch', 'en']`, most preferred first (RFC 9110 §12.5.4); `*` and q=0 left out. */
function languageRanges(acceptLanguage: string | undefined): string[] {
  if (!acceptLanguage) return [];
  const ranges: Array<{ tag: string; q: number; i: number }> = [];
  acceptLanguage.split(',').forEach((part, i) => {
    const [tag, ...params] = part.trim().split(';');
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    const t = tag.trim().toLowerCase();
    if (q > 0 && /^[a-z]{1,8}(-[a-z0-9]{1,8})*$/.test(t)) ranges.push({ tag: t, q, i });
  });
  return ranges.sort((a, b) => b.q - a.q || a.i - b.i).map((r) => r.tag);
}

/**
 * Picks, for each human-readable field, the `<field>#<language>` variant a browser prefers (its
 * Accept-Language, RFC 4647 lookup: `fr-CH` falls back to `fr`; a range `fr` also takes `fr-CA`), else the
 * field without a language tag. Pure: the consent page calls it with the client's stored metadata.
 */
export function localisedClientMetadata(metadata: Readonly<Record<string, unknown>>, acceptLanguage: string | undefined): LocalisedClientMetadata {
  const ranges = languageRanges(acceptLanguage);
  const result: LocalisedClientMetadata = {};
  for (const field of FIELDS) {
    const variants = new Map<string, string>();
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value === 'string' && key.startsWith(`${field}#`)) variants.set(key.slice(field.length + 1).toLowerCase(), value);
    }
    let chosen: string | undefined;
    for (const range of ranges) {
      // Lookup: the range itself, then ever shorter prefixes of it.
      for (let tag = range; tag && chosen === undefined; tag = tag.includes('-') ? tag.slice(0, tag.lastIndexOf('-')) : '') chosen = variants.get(tag);
      // Basic filtering: a more specific variant of the range.
      if (chosen === undefined) for (const [tag, value] of variants) if (tag.startsWith(`${range}-`)) { chosen = value; break; }
      if (chosen !== undefined) break;
    }
    chosen ??= typeof metadata[field] === 'string' ? (metadata[field] as string) : undefined;
    if (chosen !== undefined) result[field] = chosen;
  }
  return result;
}
