// What the package's build does to internal property names (scripts/mangle.json), for tests that bundle the
// sources for a browser: they then run the code as it ships.
import mangle from '../../scripts/mangle.json';

export const MANGLED = { mangleProps: new RegExp(mangle.mangleProps) };
