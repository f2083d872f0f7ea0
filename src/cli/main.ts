import { UsageError, closest } from './args';
import type { CommandIO } from './command';
import { COMMANDS } from './commands';

declare const __PACKAGE_VERSION__: string | undefined;

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'loop-room-state: the Loop room-session statechart',
    '',
    'Usage: loop-room-state <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'loop-room-state <command> --help' for a command's options.",
  ].join('\n');
}

export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(helpText());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    io.out(typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : 'dev');
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const hint = closest(name, COMMANDS.map((c) => c.name));
    io.err(`loop-room-state: unknown command '${name}'${hint ? `; did you mean '${hint}'?` : ''}\n\n${helpText()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`loop-room-state ${name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    io.err(`loop-room-state ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
