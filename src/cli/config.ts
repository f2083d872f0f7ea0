// Configuration from the environment (server spec section 8): every flag of a command can be given as
// LOOP_ROOM_STATE_<FLAG> (upper case, '-' as '_'), e.g. LOOP_ROOM_STATE_PORT=8080 for --port 8080. A flag on
// the command line wins over its variable. Containers and systemd units set variables more easily than flags,
// and a variable keeps a secret (the admin token) out of `ps`.
import { UsageError, closest, type ParsedArgs } from './args';

export const ENV_PREFIX = 'LOOP_ROOM_STATE_';

/** LOOP_ROOM_STATE_ADMIN_TOKEN for 'admin-token'. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, '_');
}

/** Variables with the prefix that are not flags: the HMAC key (serve) and npm start's switch. */
const OTHER_VARIABLES = [`${ENV_PREFIX}SECRET`, `${ENV_PREFIX}NO_BUILD`];

/**
 * Flags of the same choice: one given on the command line sets aside the variables of the others (--db on the
 * command line wins over LOOP_ROOM_STATE_STORE, rather than being refused as "--db and --store").
 */
const GROUPS: ReadonlyArray<readonly string[]> = [['db', 'store']];

/**
 * `parsed` with what the environment adds: each known flag missing from the command line and set in `env`.
 * A switch's variable is 1/true/yes/on or 0/false/no/off (or empty: off). LOOP_ROOM_STATE_STORE also takes a
 * plain file path (a SQLite store), as --db does.
 */
export function withEnvironment(parsed: ParsedArgs, known: Record<string, 'value' | 'switch'>, env: NodeJS.ProcessEnv): ParsedArgs {
  const flags = { ...parsed.flags };
  const onCommandLine = (name: string) => name in parsed.flags || GROUPS.some((g) => g.includes(name) && g.some((other) => other in parsed.flags));
  for (const [name, kind] of Object.entries(known)) {
    const variable = envName(name);
    const raw = env[variable];
    if (raw === undefined || onCommandLine(name)) continue;
    if (kind === 'switch') {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) flags[name] = true;
      else if (!['', '0', 'false', 'no', 'off'].includes(v)) throw new UsageError(`${variable} (for --${name}) must be 1/true/yes/on or 0/false/no/off, got '${raw}'`);
      continue;
    }
    if (raw === '') continue;
    flags[name] = name === 'store' && !/^[a-z][a-z0-9+.-]*:/i.test(raw) ? `sqlite:${raw}` : raw;
  }
  // A misspelt variable would leave its setting at the default unnoticed (a server on the wrong port): refused.
  const names = [...Object.keys(known).map(envName), ...OTHER_VARIABLES];
  for (const variable of Object.keys(env)) {
    if (!variable.startsWith(ENV_PREFIX) || names.includes(variable)) continue;
    const hint = closest(variable, names);
    throw new UsageError(`${variable} is not a setting of this command${hint ? `; did you mean ${hint}?` : ''} (unset it, or see --help)`);
  }
  for (const group of GROUPS) {
    const onLine = group.filter((name) => name in parsed.flags);
    if (onLine.length > 1) throw new UsageError(`${onLine.map((n) => `--${n}`).join(' and ')} are both given: pass one of them`);
    const given = group.filter((name) => name in flags);
    if (given.length > 1 && onLine.length === 0) {
      throw new UsageError(`${given.map(envName).join(' and ')} are both set: set one of them`);
    }
  }
  return { ...parsed, flags };
}

/** Lines for a command's --help: where its flags can also come from. */
export const ENV_HELP = `Every option can also be set in the environment as ${ENV_PREFIX}<OPTION> (e.g. ${ENV_PREFIX}PORT=8080,
${ENV_PREFIX}STORE=postgres://... or a file path, ${ENV_PREFIX}ACCESS_LOG=1); an option on the command line wins.`;
