import type { Command } from './command';
import { simulate } from './simulate';

/** The sub-commands, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [simulate];
