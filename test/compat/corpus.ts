// The corpus of configs real callers write (test/compat/corpus/CALLER/NAME.json, each
// with a `_compat` header saying how it was made), and the expected differences from
// runc (test/compat/differences.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Json = Record<string, any>;

export const CORPUS = join(__dirname, 'corpus');
export const DIFFERENCES = join(__dirname, 'differences.md');

// Integers past 2^53 (rlimits of 2^64-1) would lose digits through JSON.parse: they are
// carried as "@INT:digits@" strings and written back as the same digits.
export const parseExact = (text: string): Json => JSON.parse(text.replace(/([:[,]\s*)(\d{16,})(?=\s*[,\]}])/g, '$1"@INT:$2@"')) as Json;
export const stringifyExact = (v: unknown, indent?: number): string => JSON.stringify(v, null, indent).replace(/"@INT:(\d+)@"/g, '$1');

export interface Entry {
  /** CALLER/NAME */
  name: string;
  produced: string;
  config: Json;
}

export function loadCorpus(): Entry[] {
  const entries: Entry[] = [];
  for (const caller of readdirSync(CORPUS).sort()) {
    for (const file of readdirSync(join(CORPUS, caller))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const { _compat, ...config } = parseExact(readFileSync(join(CORPUS, caller, file), 'utf8'));
      entries.push({ name: `${caller}/${file.slice(0, -5)}`, produced: (_compat as Json | undefined)?.produced ?? '?', config });
    }
  }
  return entries;
}

/** One listed difference: the lines only runc showed ("- ...") and only corral did ("+ ..."). */
export interface Listed {
  lines: string[];
  why: string;
}

/**
 * differences.md: "## CALLER/NAME", then per section "### SECTION", a ```diff block of
 * the differing lines, and the reason as the text after it.
 */
export function loadDifferences(text: string): Map<string, Map<string, Listed>> {
  const all = new Map<string, Map<string, Listed>>();
  let entry: Map<string, Listed> | undefined;
  let current: Listed | undefined;
  let inBlock = false;
  for (const line of text.split('\n')) {
    if (inBlock) {
      if (line.startsWith('```')) inBlock = false;
      else current!.lines.push(line);
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = /^## (\S+)\s*$/.exec(line))) {
      entry = new Map();
      all.set(m[1], entry);
      current = undefined;
    } else if ((m = /^### (\S+)\s*$/.exec(line)) && entry) {
      // a section listed again (under *: another difference in it) is SECTION#2, ...
      let key = m[1];
      for (let n = 2; entry.has(key); n++) key = `${m[1]}#${n}`;
      current = { lines: [], why: '' };
      entry.set(key, current);
    } else if (line.startsWith('```diff') && current) {
      inBlock = true;
    } else if (current && line.trim()) {
      current.why += (current.why ? ' ' : '') + line.trim();
    }
  }
  return all;
}

/** differences.md's text for the given differences (reasons kept from `old` where listed). */
export function formatDifferences(found: Map<string, Map<string, string[]>>, old: Map<string, Map<string, Listed>>, header: string): string {
  let out = header.trimEnd() + '\n';
  for (const [entry, sections] of found) {
    out += `\n## ${entry}\n`;
    for (const [section, lines] of sections) {
      const why = old.get(entry)?.get(section)?.why ?? 'Why: TODO';
      out += `\n### ${section.replace(/#\d+$/, '')}\n\n\`\`\`diff\n${lines.join('\n')}\n\`\`\`\n\n${why}\n`;
    }
  }
  return out;
}
