// Which side of a copy a --from / --to names: a SQLite file (or sqlite:PATH) or a postgres:// URL.
import { postgresCopySource, postgresCopyTarget } from './postgres';
import { sqliteCopySource, sqliteCopyTarget } from './sqlite';
import type { CopySource, CopyTarget } from './types';

export type StoreRef = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export function storeRef(spec: string): StoreRef {
  if (/^postgres(ql)?:\/\//.test(spec)) return { kind: 'postgres', url: spec };
  return { kind: 'sqlite', path: spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec };
}

export async function openCopySide(spec: string, side: 'source'): Promise<CopySource>;
export async function openCopySide(spec: string, side: 'target'): Promise<CopyTarget>;
export async function openCopySide(spec: string, side: 'source' | 'target'): Promise<CopySource | CopyTarget> {
  const ref = storeRef(spec);
  if (ref.kind === 'postgres') return side === 'source' ? postgresCopySource(ref.url) : postgresCopyTarget(ref.url);
  return side === 'source' ? sqliteCopySource(ref.path) : sqliteCopyTarget(ref.path);
}
