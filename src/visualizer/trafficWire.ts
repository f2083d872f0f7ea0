// The traffic wire contract lives in src/traffic/wire.ts (the server uses it too); the page imports it from here.
export * from '../traffic/wire';
