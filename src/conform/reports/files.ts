// The report files (--junit, --json, --html): checked before the run, so a bad path costs no run, and
// written at the end each on its own, so one that fails does not keep the others from being written.
import { closeSync, existsSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import type { RunResult } from '../types';
import { formatHtml, type HtmlOptions } from './html';
import { formatJson } from './json';
import { formatJunit } from './junit';

export type ReportPaths = Partial<Record<'junit' | 'json' | 'html', string>>;

/** Why each path cannot be written (empty when all can); leaves no file behind that was not there. */
export function unwritableReports(paths: ReportPaths): string[] {
  return each(paths, (path) => {
    const existed = existsSync(path);
    closeSync(openSync(path, 'a'));
    if (!existed) unlinkSync(path);
  });
}

/** Writes every report asked for; returns why each one that failed did. */
export function writeReports(paths: ReportPaths, run: RunResult, html: HtmlOptions): string[] {
  const make = { junit: () => formatJunit(run), json: () => formatJson(run), html: () => formatHtml(run, html) };
  return each(paths, (path, option) => writeFileSync(path, make[option]()));
}

function each(paths: ReportPaths, act: (path: string, option: keyof ReportPaths) => void): string[] {
  return (Object.keys(paths) as Array<keyof ReportPaths>).flatMap((option) => {
    const path = paths[option];
    if (path === undefined) return [];
    try {
      act(path, option);
      return [];
    } catch (err) {
      return [`cannot write --${option} ${path}: ${(err as Error).message}`];
    }
  });
}
