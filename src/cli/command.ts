/** One sub-command of the `loop-room-state` CLI. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Resolves to the process exit code. Output goes through `io` so tests can capture it. */
  run(argv: readonly string[], io: CommandIO): Promise<number>;
}

export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** The process's stdout, for a command that streams much output and must wait for a slow reader (export). */
  stdout?: NodeJS.WritableStream;
}
