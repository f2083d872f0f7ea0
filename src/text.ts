// What a text field sent by a client may hold (server spec section 7), for the API and the visualizer's relay alike.

/**
 * Control characters (U+0000 to U+001F, U+007F): they forge log lines and terminal escapes, and PostgreSQL cannot
 * store NUL in text at all.
 */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** A UTF-16 surrogate without its pair (JSON's `\udc00` makes one): no character; stored, it becomes U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` may not be kept as sent, or undefined when it may. */
export function textProblem(text: string): string | undefined {
  if (CONTROL.test(text)) return 'control characters are not allowed';
  if (LONE_SURROGATE.test(text)) return 'not Unicode text (an unpaired surrogate)';
  return undefined;
}
