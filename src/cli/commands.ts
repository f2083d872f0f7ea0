import type { Command } from './command';
import { simulate } from './simulate';
import { generateTests } from './generateTests';
import { visualize } from './visualize';
import { serve } from './serve';
import { exportReports } from './export';
import { simulateTraffic } from './simulateTraffic';
import { backup } from './backup';
import { migrateStore } from './migrateStore';
import { conform } from './conform';

/** The sub-commands, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [simulate, generateTests, visualize, serve, exportReports, backup, migrateStore, simulateTraffic, conform];
