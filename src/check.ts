// Checking what plain JavaScript passes (no compiler caught it): an object's fields against a table of tests.
// One table per object gives its known fields, their tests and the messages, so each check is data, not code.

/** A field's test and the message's end ('must be a boolean'); `required`: absent fails too (else absent means the default). */
export type FieldCheck = readonly [test: (value: unknown) => boolean, mustBe: string, required?: boolean];

export const isNonEmptyString = (v: unknown): boolean => typeof v === 'string' && v !== '';
export const isPositive = (v: unknown): boolean => Number.isFinite(v) && (v as number) > 0;
export const isBoolean = (v: unknown): boolean => typeof v === 'boolean';
export const isFunction = (v: unknown): boolean => typeof v === 'function';
/** A field checked elsewhere (or not at all), listed so that it is known. */
export const anyValue = (): boolean => true;

/**
 * Why `value` is not an object of `fields`, or undefined when it is: not an object, a field not in `fields`
 * (unless `open`: a typo in the caller's code), or the first field failing its test. `where` names the object
 * in the message ('' for the options themselves, 'join', 'retry', ...).
 */
export function fieldsProblem(value: unknown, fields: Readonly<Record<string, FieldCheck>>, where: string, open = false): string | undefined {
  const names = Object.keys(fields);
  if (typeof value !== 'object' || value === null) return `${where || 'options'} must be an object { ${names.join(', ')} }`;
  const unknown = open ? undefined : Object.keys(value).find((k) => !names.includes(k));
  if (unknown !== undefined) return `${where && `${where}: `}unknown option ${JSON.stringify(unknown)}; known options: ${names.join(', ')}`;
  for (const name of names) {
    const [test, mustBe, required] = fields[name];
    const v = (value as Record<string, unknown>)[name];
    if ((required || v !== undefined) && !test(v)) return `${where && `${where}.`}${name} ${mustBe}`;
  }
  return undefined;
}
